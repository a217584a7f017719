package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.N2;
import static io.feedline.maintainer.manager.ManagerFixture.N3;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.remove;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import org.junit.jupiter.api.Test;

/** The node-level drain target: monotonic, fanned out to every local maintainer, always acknowledged. */
class DrainTargetTest {

  private static SetDispatcherDrainTargetRequest target(NodeId node, long epoch) {
    return request(VERSION, NodeDrainTarget.set(node, epoch));
  }

  private static SetDispatcherDrainTargetRequest cleared(long epoch) {
    return request(VERSION, NodeDrainTarget.cleared(epoch));
  }

  private static SetDispatcherDrainTargetRequest request(long version, NodeDrainTarget target) {
    return SetDispatcherDrainTargetRequest.newBuilder().setElectionVersion(version).setTarget(target.toProto()).build();
  }

  private static DrainTarget proto(NodeId node, long epoch) {
    return NodeDrainTarget.set(node, epoch).toProto();
  }

  private static NodeHeartbeat onlyNodeHeartbeat(ManagerFixture f) {
    assertThat(f.nodeHeartbeats()).hasSize(1);
    return f.nodeHeartbeats().get(0);
  }

  private double updates(ManagerFixture f, String outcome) {
    var c = f.metrics.find("feedline.maintainer_manager.drain_target_updates").tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aTargetIsAppliedToEveryMaintainerAndAcknowledgedThenClearedTheSameWay() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf2", 6));
    f.outbox.clear();

    f.receive(COORDINATOR, target(N2, 100));
    for (int i = 0; i < 2; i++) {
      assertThat(f.<HandStoppedMaintainer>maintainer(i).drainTargets()).containsExactly(DrainTarget.getDefaultInstance(), proto(N2, 100));
    }
    assertThat(onlyNodeHeartbeat(f).getDrainTargetAcknowledged()).isEqualTo(proto(N2, 100));
    assertThat(f.manager.drainTarget()).isEqualTo(NodeDrainTarget.set(N2, 100));
    // The maintainers report progress about the target they were given.
    assertThat(f.currentStatus("cf1").getDrainProgress().getTarget()).isEqualTo(proto(N2, 100));

    f.outbox.clear();
    f.receive(COORDINATOR, cleared(100));
    assertThat(f.<HandStoppedMaintainer>maintainer(0).drainTargets()).last().isEqualTo(NodeDrainTarget.cleared(100).toProto());
    assertThat(f.<HandStoppedMaintainer>maintainer(1).drainTargets()).last().isEqualTo(NodeDrainTarget.cleared(100).toProto());
    assertThat(onlyNodeHeartbeat(f).getDrainTargetAcknowledged()).isEqualTo(NodeDrainTarget.cleared(100).toProto());
    assertThat(updates(f, "applied")).isEqualTo(2);
  }

  @Test
  void aStaleOrDuplicateUpdateChangesNothingYetIsAcknowledgedWithTheAppliedTarget() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, target(N2, 100));
    f.receive(COORDINATOR, cleared(100));
    HandStoppedMaintainer m = f.maintainer(0);
    int givenBefore = m.drainTargets().size();

    for (SetDispatcherDrainTargetRequest stale : new SetDispatcherDrainTargetRequest[] {target(N3, 90), target(N2, 100), cleared(99)}) {
      f.outbox.clear();
      f.receive(COORDINATOR, stale);
      // The coordinator may have lost the earlier acknowledgement: it gets the applied target again.
      assertThat(onlyNodeHeartbeat(f).getDrainTargetAcknowledged()).as("after %s", stale.getTarget())
          .isEqualTo(NodeDrainTarget.cleared(100).toProto());
    }
    f.outbox.clear();
    f.receive(COORDINATOR, cleared(100));
    assertThat(onlyNodeHeartbeat(f).getDrainTargetAcknowledged()).isEqualTo(NodeDrainTarget.cleared(100).toProto());

    assertThat(m.drainTargets()).hasSize(givenBefore);
    assertThat(f.manager.drainTarget()).isEqualTo(NodeDrainTarget.cleared(100));
    assertThat(updates(f, "stale")).isEqualTo(3);
    assertThat(updates(f, "duplicate")).isEqualTo(1);
  }

  @Test
  void anUpdateFromAnOlderCoordinatorIsNeitherAppliedNorAcknowledged() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, request(VERSION - 1, NodeDrainTarget.set(N2, 100)));
    assertThat(f.nodeHeartbeats()).isEmpty();
    assertThat(f.manager.drainTarget()).isEqualTo(NodeDrainTarget.NONE);
    assertThat(f.fenceRejections("SetDispatcherDrainTargetRequest", "stale_epoch")).isEqualTo(1);
  }

  @Test
  void aNodeWithoutMaintainersAcknowledgesWithANodeHeartbeat() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.dispatchers.set(42);
    f.receive(COORDINATOR, target(N2, 100));
    NodeHeartbeat ack = onlyNodeHeartbeat(f);
    assertThat(ack.getDrainTargetAcknowledged()).isEqualTo(proto(N2, 100));
    assertThat(ack.getNodeEpoch()).isEqualTo(ManagerFixture.NODE_EPOCH);
    assertThat(ack.getDispatchers()).isEqualTo(42);
    assertThat(f.heartbeats()).isEmpty();
  }

  @Test
  void aMaintainerAddedWhileATargetIsSetIsSeededBeforeItStarts() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, target(N2, 100));
    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(f.<HandStoppedMaintainer>maintainer(0).calls()).containsExactly("drainTarget n2@100", "start");
  }

  @Test
  void aReplacementWaitingForItsPredecessorGetsTheTargetCurrentWhenItIsCreatedAndIsCreatedOnce() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, target(N2, 100));
    // A newer add: the old maintainer is stopping, the new one waits for it.
    f.receive(COORDINATOR, add("cf1", 6));
    HandStoppedMaintainer old = f.maintainer(0);
    assertThat(old.stopCalls()).hasSize(1);

    // Meanwhile the target moves on, and the coordinator resends the add.
    f.receive(COORDINATOR, target(N3, 200));
    f.receive(COORDINATOR, add("cf1", 6));
    assertThat(f.created).hasSize(1);
    // The stopping maintainer is told too: it is still local and must not move dispatchers onto n3.
    assertThat(old.drainTargets()).last().isEqualTo(proto(N3, 200));

    old.completeStop();
    f.scheduler.runDue();
    assertThat(f.created).hasSize(2);
    HandStoppedMaintainer replacement = f.maintainer(1);
    assertThat(replacement.epoch()).isEqualTo(6);
    assertThat(replacement.calls()).containsExactly("drainTarget n3@200", "start");

    // A target racing the replacement's creation in the other order is fanned out to it as well.
    f.receive(COORDINATOR, cleared(200));
    assertThat(replacement.calls()).containsExactly("drainTarget n3@200", "start", "drainTarget none@200");
  }

  @Test
  void aRemoveOnlyMaintainerIsSeededToo() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, target(N2, 100));
    f.receive(COORDINATOR, remove("cf9", 7, true, true));
    assertThat(f.created).hasSize(1);
    f.outbox.clear();
    assertThat(f.currentStatus("cf9").getDrainProgress().getTarget()).isEqualTo(proto(N2, 100));
  }
}
