package io.feedline.postgresql.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.PostgresServerExtension;
import io.feedline.dispatcher.check.CheckReport;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code feedline check} of a PostgreSQL source against a PostgreSQL sink: both databases' tables as they are now. */
class PostgresTablesCheckTest {

  private static final String SCHEMA = "CREATE TABLE items (id int PRIMARY KEY, name text, at timestamptz); "
      + "CREATE TABLE pairs (a int, b text, PRIMARY KEY (a, b)); "
      + "INSERT INTO items VALUES (1, 'one', '2026-12-06 10:00:00+00'), (2, 'two', NULL), (3, 'three', NULL); "
      + "INSERT INTO pairs VALUES (1, 'x'), (2, 'y')";
  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();

  @Test
  void equalDatabasesReadEqualAndEveryKindOfDifferenceIsNamed() {
    String up = POSTGRES.server().createDatabase("check_up");
    String down = POSTGRES.server().createDatabase("check_down");
    POSTGRES.server().psql(up, SCHEMA);
    POSTGRES.server().psql(down, SCHEMA + "; SET TIME ZONE 'Asia/Tokyo'");
    CheckReport same = PostgresTablesCheck.check(POSTGRES.server().uri(up), POSTGRES.server().uri(down), Map.of());
    assertThat(same.equal()).isTrue();
    assertThat(same.render()).isEqualTo("equal: 5 rows in 2 tables, as both databases hold them now\n");

    POSTGRES.server().psql(down, "UPDATE items SET name = 'TWO' WHERE id = 2; DELETE FROM items WHERE id = 3; INSERT INTO items VALUES (9, 'nine', NULL); "
        + "DROP TABLE pairs");
    CheckReport different = PostgresTablesCheck.check(POSTGRES.server().uri(up), POSTGRES.server().uri(down), Map.of());
    assertThat(different.equal()).isFalse();
    assertThat(different.render()).startsWith("DIFFERENT in 2 tables, as both databases hold them now\n")
        .contains(": 1 missing, 1 extra, 1 wrong rows;")
        .contains("tables: 1 missing, 0 extra\n  missing table public.pairs (2 rows) is missing downstream in schema public\n");
  }
}
