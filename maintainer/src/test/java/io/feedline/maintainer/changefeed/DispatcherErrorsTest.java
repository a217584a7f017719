package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.messaging.RunningErrorCodes;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.RunningError;
import org.junit.jupiter.api.Test;

class DispatcherErrorsTest {

  private static MaintainerHarness running() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    h.side.tables.add(1L);
    h.settle();
    return h;
  }

  private static void reportError(MaintainerHarness h, String code, String message) {
    DispatcherHeartbeat hb = h.side.heartbeat(B, "cf1").toBuilder()
        .addErrors(RunningError.newBuilder().setNodeId(B.value()).setCode(code).setMessage(message)).build();
    h.receive(B, hb);
  }

  @Test
  void aSinkErrorBecomesTheChangefeedsErrorInTheSinksWords() {
    MaintainerHarness h = running();
    reportError(h, RunningErrorCodes.SINK_ERROR, "table t1 has no primary key");
    reportError(h, RunningErrorCodes.SINK_ERROR, "a later one does not replace the first");
    assertThat(h.maintainer.status().getErrorsList()).singleElement().satisfies(e -> {
      assertThat(e.getCode()).isEqualTo(RunningErrorCodes.SINK_ERROR);
      assertThat(e.getMessage()).isEqualTo("table t1 has no primary key");
    });
  }

  @Test
  void anOrdinaryDispatcherFailureIsHealedNotReported() {
    MaintainerHarness h = running();
    reportError(h, "dispatcher_failed", "connection reset");
    assertThat(h.maintainer.status().getErrorsList()).isEmpty();
  }
}
