package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/**
 * A changefeed whose sink never finishes closing, and one whose sink never finishes opening, must not
 * delay any other changefeed's requests. Deterministic: the stalls last until the test releases them.
 */
class HeadOfLineTest {

  private static final NodeId MAINTAINER = NodeId.of("m");

  private final OrchestratorFixture f = new OrchestratorFixture();

  @Test
  void aStalledChangefeedDelaysNoOtherChangefeed() {
    ControllableSink stuckClose = f.endpoints.sink("stuck-close").holdClose();
    f.deliver(MAINTAINER, Requests.bootstrap("stalled", 3, "test://stuck-close"));
    f.deliver(MAINTAINER, Requests.close("stalled", 3));
    f.endpoints.holdOpen("stuck-open");
    Future<Void> opening = f.deliver(MAINTAINER, Requests.bootstrap("opening", 3, "test://stuck-open"));
    Future<Void> queuedBehindOpen = f.deliver(MAINTAINER, Requests.create("opening", 3, id(9), table(1)));
    assertThat(opening.isComplete()).isFalse();
    assertThat(queuedBehindOpen.isComplete()).as("the same changefeed's next request waits its turn").isFalse();

    for (int i = 0; i < 50; i++) {
      String cf = "healthy-" + i;
      f.outbox.clear();
      assertThat(f.deliver(MAINTAINER, Requests.bootstrap(cf, 3)).succeeded()).isTrue();
      assertThat(f.outbox.last(MaintainerBootstrapResponse.class).getChangefeedId()).isEqualTo(cf);
      assertThat(f.deliver(MAINTAINER, Requests.create(cf, 3, id(i), table(1))).succeeded()).isTrue();
      assertThat(f.outbox.last(DispatcherHeartbeat.class).getStatusesCount()).isEqualTo(1);
      assertThat(f.deliver(MAINTAINER, Requests.close(cf, 3)).succeeded()).isTrue();
      assertThat(f.deliver(MAINTAINER, Requests.close(cf, 3)).succeeded()).isTrue();
      assertThat(f.outbox.last(MaintainerCloseResponse.class).getSuccess()).isTrue();
      // The stalled changefeed itself still answers at once: "not yet".
      f.outbox.clear();
      f.deliver(MAINTAINER, Requests.close("stalled", 3));
      assertThat(f.outbox.last(MaintainerCloseResponse.class).getSuccess()).isFalse();
    }
    assertThat(f.orchestrator.pendingRequests(ChangefeedId.of("opening"))).isEqualTo(2);

    stuckClose.releaseClose();
    f.endpoints.releaseOpen("stuck-open");
    f.scheduler.runDue();
    assertThat(opening.succeeded()).isTrue();
    assertThat(queuedBehindOpen.succeeded()).isTrue();
    assertThat(f.orchestrator.manager(ChangefeedId.of("opening")).manager().dispatcherIds()).containsExactly(id(9));
    f.outbox.clear();
    f.deliver(MAINTAINER, Requests.close("stalled", 3));
    assertThat(f.outbox.last(MaintainerCloseResponse.class).getSuccess()).isTrue();
    assertThat(f.orchestrator.busyChangefeeds()).isZero();
  }
}
