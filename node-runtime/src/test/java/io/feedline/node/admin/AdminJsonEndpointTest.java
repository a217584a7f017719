package io.feedline.node.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class AdminJsonEndpointTest {

  /** Above 2^53: what a JavaScript client can only send exactly as a string, which is how the views write it. */
  private static final long TSO = (1_796_589_574_964L << 18) | 7;

  @Test
  void aPositionIsANumberOrTheDecimalStringTheViewsWrite() {
    assertThat(AdminJsonEndpoint.position(new JsonObject().put("startTs", TSO), "startTs")).isEqualTo(TSO);
    assertThat(AdminJsonEndpoint.position(new JsonObject().put("startTs", Long.toUnsignedString(TSO)), "startTs")).isEqualTo(TSO);
    assertThat(AdminJsonEndpoint.position(new JsonObject(), "startTs")).as("absent").isZero();
    assertThatThrownBy(() -> AdminJsonEndpoint.position(new JsonObject().put("startTs", "soon"), "startTs"))
        .isInstanceOfSatisfying(AdminError.class, e -> assertThat(e.httpStatus()).isEqualTo(400))
        .hasMessageContaining("startTs must be a whole number or a decimal string");
    assertThatThrownBy(() -> AdminJsonEndpoint.position(new JsonObject().put("startTs", 1.5), "startTs")).isInstanceOf(AdminError.class);
  }
}
