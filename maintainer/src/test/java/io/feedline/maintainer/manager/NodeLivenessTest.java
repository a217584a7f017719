package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.NODE_EPOCH;
import static io.feedline.maintainer.manager.ManagerFixture.TIMINGS;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.messaging.Role;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.SetNodeLivenessRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import org.junit.jupiter.api.Test;

/** Node liveness: forward only, for this node's epoch only, always answered; node heartbeats report it. */
class NodeLivenessTest {

  private static SetNodeLivenessRequest liveness(NodeLiveness target, long nodeEpoch) {
    return SetNodeLivenessRequest.newBuilder().setElectionVersion(VERSION).setTarget(target).setNodeEpoch(nodeEpoch).build();
  }

  private static SetNodeLivenessResponse lastAnswer(ManagerFixture f) {
    var answers = f.outbox.of(COORDINATOR, Role.COORDINATOR, SetNodeLivenessResponse.class);
    assertThat(answers).isNotEmpty();
    return answers.get(answers.size() - 1);
  }

  @Test
  void livenessMovesForwardOnlyAndEveryCommandIsAnsweredWithTheCurrentOne() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, liveness(NodeLiveness.NODE_LIVENESS_DRAINING, NODE_EPOCH));
    assertThat(lastAnswer(f).getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
    assertThat(lastAnswer(f).getNodeEpoch()).isEqualTo(NODE_EPOCH);
    assertThat(f.nodeHeartbeats()).last().extracting(NodeHeartbeat::getLiveness).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);

    f.receive(COORDINATOR, liveness(NodeLiveness.NODE_LIVENESS_ALIVE, NODE_EPOCH));
    assertThat(lastAnswer(f).getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);

    f.receive(COORDINATOR, liveness(NodeLiveness.NODE_LIVENESS_STOPPING, NODE_EPOCH));
    f.receive(COORDINATOR, liveness(NodeLiveness.NODE_LIVENESS_DRAINING, NODE_EPOCH));
    assertThat(lastAnswer(f).getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
    assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
  }

  @Test
  void aCommandForAnotherNodeEpochIsIgnoredButAnsweredAndCounted() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, liveness(NodeLiveness.NODE_LIVENESS_STOPPING, NODE_EPOCH - 1));
    assertThat(lastAnswer(f).getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
    assertThat(lastAnswer(f).getNodeEpoch()).isEqualTo(NODE_EPOCH);
    assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
    assertThat(f.fenceRejections("SetNodeLivenessRequest", "stale_epoch")).isEqualTo(1);
  }

  @Test
  void aCommandFromAnOlderCoordinatorIsDropped() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, SetNodeLivenessRequest.newBuilder().setElectionVersion(VERSION - 1)
        .setTarget(NodeLiveness.NODE_LIVENESS_DRAINING).setNodeEpoch(NODE_EPOCH).build());
    assertThat(f.outbox.all()).isEmpty();
    assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
  }

  @Test
  void nodeHeartbeatsGoEveryIntervalWithLivenessEpochTargetDispatcherCountAndMetastoreOutage() {
    ManagerFixture f = ManagerFixture.withPlaceholders();
    f.advance(TIMINGS.nodeHeartbeat().toMillis());
    assertThat(f.outbox.all()).as("no coordinator yet: nobody to report to").isEmpty();

    // A new coordinator gets the node heartbeat right with the bootstrap answer.
    f.receive(COORDINATOR, ManagerFixture.bootstrap(VERSION));
    assertThat(f.nodeHeartbeats()).hasSize(1);
    assertThat(f.nodeHeartbeats().get(0).getMetastoreUnreachableSinceMs()).as("the store is reached").isZero();
    f.dispatchers.set(7);
    f.metastoreUnreachableSinceMs.set(1_700_000_000_000L);
    f.advance(TIMINGS.nodeHeartbeat().toMillis() - TIMINGS.maintainerHeartbeat().toMillis());
    assertThat(f.nodeHeartbeats()).hasSize(1);
    f.advance(TIMINGS.maintainerHeartbeat().toMillis());
    assertThat(f.nodeHeartbeats()).hasSize(2);
    NodeHeartbeat hb = f.nodeHeartbeats().get(1);
    assertThat(hb.getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
    assertThat(hb.getNodeEpoch()).isEqualTo(NODE_EPOCH);
    assertThat(hb.getDispatchers()).isEqualTo(7);
    assertThat(hb.getMetastoreUnreachableSinceMs()).as("node list shows the outage from here").isEqualTo(1_700_000_000_000L);
    assertThat(hb.getDrainTargetAcknowledged().getTargetNode()).isEmpty();
  }

  @Test
  void losingTheSessionGoesStoppingAtOnceAndSaysSo() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.runtime.sessionLost();
    assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
    assertThat(f.nodeHeartbeats()).singleElement().extracting(NodeHeartbeat::getLiveness).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
  }
}
