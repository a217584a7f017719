package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Source URIs: what they capture and name upstream, and bad ones refused with the reason and without the password. */
class SourceSpecTest {

  private static SourceSpec parse(String uri) {
    return SourceSpec.parse(EndpointUri.parse("source", uri), Map.of());
  }

  @Test
  void withoutAPublicationFeedlineOwnsOneNamedAfterTheChangefeed() {
    SourceSpec spec = parse("postgresql://capture:pw@127.0.0.1:5432/shop");
    assertThat(spec.ownsPublication()).isTrue();
    assertThat(spec.publicationFor("orders-Feed")).isEqualTo(SourceSpec.anchorSlot("orders-Feed")).startsWith("feedline_orders_feed_");
    assertThat(spec.tables().captures("public", "orders")).isTrue();
    SourceSpec named = parse("postgresql://capture@127.0.0.1/shop?publication=mine&tables=app.*");
    assertThat(named.ownsPublication()).isFalse();
    assertThat(named.publicationFor("x")).isEqualTo("mine");
    assertThat(named.tables().captures("public", "orders")).isFalse();
  }

  @Test
  void namesUpstreamAreValidAndKeepDifferentIdsApart() {
    String a = SourceSpec.anchorSlot("a-b");
    String b = SourceSpec.anchorSlot("a_b");
    assertThat(a).isNotEqualTo(b).matches("[a-z0-9_]+");
    // A copy's suffix must still fit PostgreSQL's 63 characters.
    assertThat(SourceSpec.anchorSlot("x".repeat(200)).length() + "_rffffff".length()).isLessThanOrEqualTo(63);
  }

  @Test
  void badUrisSayWhatIsWrongAndNeverShowThePassword() {
    assertThatThrownBy(() -> parse("postgresql://capture:s3cret@127.0.0.1/shop?schema=app"))
        .isInstanceOf(InvalidEndpointException.class).hasMessageContaining("unknown parameter 'schema'").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> parse("postgresql://capture:s3cret@127.0.0.1/shop?publication="))
        .isInstanceOf(InvalidEndpointException.class).hasMessageContaining("publication must not be empty").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> parse("postgresql://capture:s3cret@127.0.0.1/shop?tables=orders"))
        .isInstanceOf(InvalidEndpointException.class).hasMessageContaining("[!]schema.table").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> parse("postgresql://127.0.0.1/shop")).isInstanceOf(InvalidEndpointException.class).hasMessageContaining("needs a user");
  }
}
