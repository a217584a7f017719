package io.feedline.postgresql.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.dispatcher.sink.UnwritableSchemaException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PostgresTypesTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "BIGINT|bigint", "int|integer", "TINYINT|smallint", "VARCHAR(24)|character varying(24)", "character varying( 8 )|character varying(8)",
      "DECIMAL(10, 2)|numeric(10,2)", "DATETIME|timestamp without time zone", "timestamptz|timestamp with time zone", "LONGBLOB|bytea",
      "JSON|json", "integer[]|integer[]", "double precision|double precision", "CHAR(3)|character(3)", "INT(11)|integer"})
  void mapsUpstreamTypes(String upstream, String postgres) {
    assertThat(PostgresTypes.toPostgres(upstream, "column c of table t")).isEqualTo(postgres);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"GEOMETRY", "ENUM('a','b')", "varchar(x)", "''"})
  void refusesWhatHasNoCounterpart(String upstream) {
    assertThatThrownBy(() -> PostgresTypes.toPostgres(upstream, "column c of table t")).isInstanceOf(UnwritableSchemaException.class)
        .hasMessageStartingWith("column c of table t: the upstream type");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "character varying(24)|character varying", "timestamp(3) without time zone|timestamp without time zone", "numeric(10,2)|numeric",
      "bpchar|character", "character(3)[]|character[]", "bigint|bigint"})
  void theBaseTypeDropsLengthAndPrecisionOnly(String type, String base) {
    assertThat(PostgresTypes.baseOf(type)).isEqualTo(base);
  }
}
