package io.feedline.dispatcher.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.uri.SinkUris;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EndpointUriTest {

  @Test
  void parsesSchemeWithEmptyAuthorityAndQuery() {
    EndpointUri uri = EndpointUri.parse("source", "datagen://?tables=100&seed=7&rate=50");
    assertThat(uri.scheme()).isEqualTo("datagen");
    assertThat(uri.host()).isEmpty();
    assertThat(uri.path()).isEmpty();
    assertThat(uri.params()).isEqualTo(Map.of("tables", "100", "seed", "7", "rate", "50"));
  }

  @Test
  void parsesFileUriAndCredentials() {
    assertThat(EndpointUri.parse("sink", "file:///tmp/out dir").path()).isEqualTo("/tmp/out dir");
    EndpointUri db = EndpointUri.parse("sink", "mysql://app:s%40cret@db:3306/feed?ssl=true");
    assertThat(db.user()).isEqualTo("app");
    assertThat(db.password()).isEqualTo("s@cret");
    assertThat(db.host()).isEqualTo("db:3306");
    assertThat(db.path()).isEqualTo("/feed");
    assertThat(db.toString()).isEqualTo("mysql://app:***@db:3306/feed?ssl=true").doesNotContain("cret");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "mysql://root:hunter2@h/db|mysql://root:***@h/db",
      "pg://u:p@ss:w@rd@h:5432/x|pg://u:***@h:5432/x",
      "kafka://h:9092/t?token=abc&acks=all|kafka://h:9092/t?token=***&acks=all",
      "s3://bucket/p?secret=xyz|s3://bucket/p?secret=***",
      "s3://b/p?region=eu&access-key=AK&Pass=x|s3://b/p?region=eu&access-key=***&Pass=***",
      "mysql://user@h/db|mysql://user@h/db",
      "not a uri :hunter2@|not a uri :hunter2@",
  })
  void redactsPasswordsAndSecretParamsOnly(String raw, String redacted) {
    assertThat(SinkUris.redact(raw)).isEqualTo(redacted);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "no-scheme", "://x", "1abc://x", "mysql://u:hunter2@h/db#frag", "mysql://u:hunter2@h/db?a=1&a=2",
      "mysql://u:hunter2@h/db?=1", "mysql://u:hunter2@h/%zz"})
  void badUrisAreClearErrorsWithoutThePassword(String raw) {
    assertThatThrownBy(() -> EndpointUri.parse("sink", raw))
        .isInstanceOf(InvalidEndpointException.class)
        .hasMessageContaining("sink URI")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void unknownParametersAreRejectedByName() {
    EndpointUri uri = EndpointUri.parse("source", "datagen://?tabels=3");
    assertThatThrownBy(() -> uri.requireOnlyParams("source", Set.of("tables", "seed")))
        .hasMessageContaining("unknown parameter 'tabels'").hasMessageContaining("known: seed, tables");
  }
}
