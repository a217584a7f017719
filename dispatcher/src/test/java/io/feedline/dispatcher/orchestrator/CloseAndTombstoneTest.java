package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import org.junit.jupiter.api.Test;

class CloseAndTombstoneTest {

  private static final String CF = "cf1";
  private static final ChangefeedId CFID = ChangefeedId.of(CF);
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");

  private final OrchestratorFixture f = new OrchestratorFixture();

  private MaintainerCloseResponse close(NodeId from, long epoch) {
    f.outbox.clear();
    f.deliver(from, Requests.close(CF, epoch));
    return f.outbox.last(MaintainerCloseResponse.class);
  }

  @Test
  void theFirstCloseStartsClosingAndALaterOneConfirmsAndDropsTheManager() {
    ControllableSink sink = f.endpoints.sink("slow").holdClose();
    f.deliver(N1, Requests.bootstrap(CF, 5, "test://slow"));
    f.deliver(N1, Requests.create(CF, 5, id(1), table(1)));
    ManagerRuntime manager = f.orchestrator.manager(CFID);

    MaintainerCloseResponse first = close(N1, 5);
    assertThat(first.getSuccess()).as("not yet").isFalse();
    assertThat(first.getEpoch()).isEqualTo(5);
    assertThat(sink.closeRequested()).isTrue();
    assertThat(manager.manager().dispatcherIds()).as("write path stopped at once").isEmpty();
    assertThat(close(N1, 5).getSuccess()).as("the sink is still closing").isFalse();
    assertThat(f.orchestrator.manager(CFID)).isSameAs(manager);

    sink.releaseClose();
    f.scheduler.runDue(); // the close completes on the lane, then is reported on the control context
    assertThat(close(N1, 5).getSuccess()).isTrue();
    assertThat(f.orchestrator.manager(CFID)).isNull();
    assertThat(close(N1, 5).getSuccess()).as("idempotent").isTrue();
  }

  @Test
  void aStaleCloseIsAcknowledgedWithoutClosingTheNewerOwnersManager() {
    f.deliver(N1, Requests.bootstrap(CF, 5));
    f.deliver(N2, Requests.bootstrap(CF, 6));
    ManagerRuntime manager = f.orchestrator.manager(CFID);
    MaintainerCloseResponse ack = close(N1, 5);
    assertThat(ack.getSuccess()).isTrue();
    assertThat(ack.getEpoch()).as("the sender's epoch, so the sender accepts it").isEqualTo(5);
    assertThat(f.orchestrator.manager(CFID)).isSameAs(manager);
    assertThat(manager.closing()).isFalse();
    assertThat(f.orchestrator.fence(CFID).owner()).isEqualTo(N2);
  }

  @Test
  void aTombstoneBlocksALateBootstrapOfTheClosedOwnershipButNotANewerOne() {
    f.deliver(N1, Requests.bootstrap(CF, 5));
    // The owner's node died; a remove-only maintainer at epoch 7 closes the manager without bootstrapping.
    assertThat(close(N2, 7).getSuccess()).isFalse();
    assertThat(close(N2, 7).getSuccess()).isTrue();
    assertThat(f.orchestrator.manager(CFID)).isNull();

    f.outbox.clear();
    f.deliver(N1, Requests.bootstrap(CF, 5)); // the old owner's delayed bootstrap
    f.deliver(N2, Requests.bootstrap(CF, 7));
    f.deliver(N1, Requests.bootstrap(CF, 0));
    assertThat(f.orchestrator.manager(CFID)).as("not resurrected").isNull();
    assertThat(f.outbox.of(MaintainerBootstrapResponse.class)).isEmpty();
    assertThat(f.rejections("MaintainerBootstrapRequest", "closed")).isEqualTo(3);

    f.deliver(N2, Requests.bootstrap(CF, 8));
    assertThat(f.orchestrator.manager(CFID)).isNotNull();
    assertThat(f.outbox.last(MaintainerBootstrapResponse.class).getEpoch()).isEqualTo(8);
  }

  @Test
  void aNewerBootstrapWaitsWhileThePreviousManagerIsStillClosing() {
    ControllableSink sink = f.endpoints.sink("slow").holdClose();
    f.deliver(N1, Requests.bootstrap(CF, 5, "test://slow"));
    close(N2, 7);
    f.outbox.clear();
    f.deliver(N2, Requests.bootstrap(CF, 8, "test://slow"));
    assertThat(f.outbox.of(MaintainerBootstrapResponse.class)).isEmpty();
    assertThat(f.notices("MaintainerBootstrapRequest", "manager_closing")).isEqualTo(1);
    assertThat(f.orchestrator.fence(CFID).epoch()).as("not acted on: the fence stays").isEqualTo(7);

    sink.releaseClose();
    f.scheduler.runDue();
    f.deliver(N2, Requests.bootstrap(CF, 8, "test://slow")); // the resend
    assertThat(f.outbox.last(MaintainerBootstrapResponse.class).getEpoch()).isEqualTo(8);
    assertThat(f.orchestrator.manager(CFID).closing()).isFalse();
  }
}
