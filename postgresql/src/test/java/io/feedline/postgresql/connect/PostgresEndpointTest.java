package io.feedline.postgresql.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PostgresEndpointTest {

  private static PostgresEndpoint parse(String uri, Map<String, String> env) {
    return PostgresEndpoint.parse("sink", EndpointUri.parse("sink", uri), env);
  }

  @Test
  void readsHostPortDatabaseUserAndTheDefaults() {
    PostgresEndpoint e = parse("postgresql://app:pw@db.internal:6543/shop", Map.of());
    PgConnectOptions o = e.connectOptions();
    assertThat(o.getHost()).isEqualTo("db.internal");
    assertThat(o.getPort()).isEqualTo(6543);
    assertThat(o.getDatabase()).isEqualTo("shop");
    assertThat(o.getUser()).isEqualTo("app");
    assertThat(o.getPassword()).isEqualTo("pw");
    assertThat(o.getSslMode()).isEqualTo(SslMode.PREFER);
    assertThat(e.schema()).isEqualTo("public");
    assertThat(e.poolSize()).isEqualTo(4);
    assertThat(e.toString()).isEqualTo("postgresql://app:***@db.internal:6543/shop").doesNotContain("pw@");
  }

  @Test
  void takesIpv6HostsTheDefaultPortAndTheParameters() {
    PostgresEndpoint e = parse("postgresql://app@[::1]/shop?schema=replica&sslmode=disable&poolSize=8", Map.of());
    assertThat(e.connectOptions().getHost()).isEqualTo("::1");
    assertThat(e.connectOptions().getPort()).isEqualTo(5432);
    assertThat(e.connectOptions().getSslMode()).isEqualTo(SslMode.DISABLE);
    assertThat(e.schema()).isEqualTo("replica");
    assertThat(e.poolSize()).isEqualTo(8);
  }

  @Test
  void thePasswordComesFromTheUriElseItsFileElsePgpassword(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pw");
    Files.writeString(file, "from-file\nignored second line\n");
    assertThat(parse("postgresql://app:inline@h/db?passwordFile=" + file, Map.of("PGPASSWORD", "env")).connectOptions().getPassword())
        .isEqualTo("inline");
    assertThat(parse("postgresql://app@h/db?passwordFile=" + file, Map.of("PGPASSWORD", "env")).connectOptions().getPassword())
        .isEqualTo("from-file");
    assertThat(parse("postgresql://app@h/db", Map.of("PGPASSWORD", "env")).connectOptions().getPassword()).isEqualTo("env");
    assertThat(parse("postgresql://app@h/db", Map.of()).connectOptions().getPassword()).isEmpty();
  }

  @Test
  void sslModesReadAsPsqlReadsThem() {
    assertThat(parse("postgresql://a@h/db?sslmode=require", Map.of()).connectOptions().getSslOptions().isTrustAll())
        .as("require encrypts without checking the certificate").isTrue();
    PgConnectOptions full = parse("postgresql://a@h/db?sslmode=verify-full", Map.of()).connectOptions();
    assertThat(full.getSslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(full.getSslOptions().isTrustAll()).isFalse();
    assertThat(full.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");
    PgConnectOptions ca = parse("postgresql://a@h/db?sslmode=VERIFY-CA", Map.of()).connectOptions();
    assertThat(ca.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(ca.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "postgresql://h/db|needs a user",
      "postgresql://app:pw@h|needs a database",
      "postgresql://app:pw@h:99999/db|port '99999'",
      "postgresql://app:pw@/db|needs a host",
      "postgresql://app:pw@h/db?sslmode=sometimes|sslmode 'sometimes'",
      "postgresql://app:pw@h/db?poolSize=0|poolSize must be",
      "postgresql://app:pw@h/db?schema=|schema must not be empty",
      "postgresql://app:pw@h/db?sslrootcert=/no/such/ca.pem|sslrootcert /no/such/ca.pem",
      "postgresql://app@h/db?passwordFile=/no/such/file|cannot read passwordFile",
      "postgresql://app:pw@h/db?shema=x|unknown parameter 'shema'"})
  void aBadUriIsAClearErrorThatNeverShowsThePassword(String uri, String reason) {
    assertThatThrownBy(() -> parse(uri, Map.of())).isInstanceOf(InvalidEndpointException.class).hasMessageContaining(reason)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(":pw@"));
  }
}
