package io.feedline.coordinator.drain;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.time.ManualScheduler;
import io.feedline.coordinator.drain.DrainController.Check;
import io.feedline.coordinator.drain.DrainController.Progress;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DrainControllerTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");
  private static final long VERSION = 30;
  private static final DrainController.Settings SETTINGS =
      new DrainController.Settings(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30));
  private static final Progress BUSY = new Progress(1, 0, 0, 0);

  private final ManualScheduler clock = new ManualScheduler(1_000_000);
  private DrainController drain;

  @BeforeEach
  void threeNodes() {
    drain = new DrainController(VERSION, clock, SETTINGS);
    for (NodeId n : List.of(N1, N2, N3)) {
      assertThat(drain.onNodeJoined(n)).as("no drain ever: nothing to tell a joining node").isEmpty();
    }
  }

  private void heartbeat(NodeId node, long nodeEpoch, NodeLiveness liveness, NodeDrainTarget acked) {
    drain.onNodeHeartbeat(node, NodeHeartbeat.newBuilder().setNodeEpoch(nodeEpoch).setLiveness(liveness)
        .setDrainTargetAcknowledged(acked.toProto()).setDispatchers(3).build());
  }

  private static List<NodeId> targetsSentTo(List<Outbound> out, NodeDrainTarget target) {
    return out.stream().filter(o -> o.payload() instanceof SetDispatcherDrainTargetRequest r
        && NodeDrainTarget.of(r.getTarget()).equals(target) && r.getElectionVersion() == VERSION).map(Outbound::to).toList();
  }

  private static List<SetNodeLivenessRequest> livenessCommands(List<Outbound> out, NodeId to) {
    return out.stream().filter(o -> o.to().equals(to) && o.payload() instanceof SetNodeLivenessRequest)
        .map(o -> (SetNodeLivenessRequest) o.payload()).toList();
  }

  @Test
  void startBroadcastsTheTargetAndTellsTheNodeDrainingWithTheEpochItReported() {
    heartbeat(N2, 222, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.NONE);
    List<Outbound> out = drain.start(N2, 100);
    assertThat(targetsSentTo(out, NodeDrainTarget.set(N2, 100))).containsExactly(N1, N2, N3);
    assertThat(livenessCommands(out, N2)).singleElement().satisfies(c -> {
      assertThat(c.getTarget()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
      assertThat(c.getNodeEpoch()).isEqualTo(222);
      assertThat(c.getElectionVersion()).isEqualTo(VERSION);
    });
    assertThat(drain.livenessOf(N2)).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
  }

  @Test
  void theLivenessCommandWaitsForTheNodeEpochAndIsResentUntilReported() {
    assertThat(livenessCommands(drain.start(N2, 100), N2)).as("node epoch unknown yet").isEmpty();
    assertThat(livenessCommands(drain.tick(BUSY), N2)).isEmpty();
    heartbeat(N2, 222, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.NONE);
    assertThat(livenessCommands(drain.tick(BUSY), N2)).hasSize(1);
    clock.advance(999);
    assertThat(livenessCommands(drain.tick(BUSY), N2)).isEmpty();
    clock.advance(1);
    assertThat(livenessCommands(drain.tick(BUSY), N2)).hasSize(1);
    heartbeat(N2, 222, NodeLiveness.NODE_LIVENESS_DRAINING, NodeDrainTarget.set(N2, 100));
    clock.advance(5_000);
    assertThat(livenessCommands(drain.tick(BUSY), N2)).as("it is DRAINING now").isEmpty();
  }

  @Test
  void stoppingIsAskedOnlyOnceNothingRemains() {
    heartbeat(N2, 222, NodeLiveness.NODE_LIVENESS_DRAINING, NodeDrainTarget.NONE);
    drain.start(N2, 100);
    for (Progress p : List.of(new Progress(0, 5, 0, 0), new Progress(0, 0, 2, 0), new Progress(0, 0, 0, 1))) {
      clock.advance(1_000);
      assertThat(livenessCommands(drain.tick(p), N2)).as("remaining %d", p.remaining()).isEmpty();
    }
    List<SetNodeLivenessRequest> stop = livenessCommands(drain.tick(Progress.NONE), N2);
    assertThat(stop).singleElement().extracting(SetNodeLivenessRequest::getTarget).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
    // Forward only: a later tick with work reappearing does not ask for DRAINING again.
    clock.advance(1_000);
    assertThat(livenessCommands(drain.tick(BUSY), N2)).extracting(SetNodeLivenessRequest::getTarget)
        .containsExactly(NodeLiveness.NODE_LIVENESS_STOPPING);
  }

  @Test
  void remainingIsTheLargestOfTheFourCounts() {
    assertThat(new Progress(2, 7, 3, 1).remaining()).isEqualTo(7);
    assertThat(new Progress(4, 0, 0, 9).remaining()).isEqualTo(9);
    assertThat(Progress.NONE.remaining()).isZero();
  }

  @Test
  void aNodeIsADestinationOnlyAfterAcknowledgingTheCurrentTargetAndTheTargetNeverIs() {
    assertThat(drain.isDestination(N1)).isTrue();
    drain.start(N2, 100);
    assertThat(drain.isDestination(N1)).isFalse();
    heartbeat(N1, 111, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.set(N2, 99));
    assertThat(drain.isDestination(N1)).as("acknowledged an older target").isFalse();
    heartbeat(N1, 111, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.set(N2, 100));
    assertThat(drain.isDestination(N1)).isTrue();
    heartbeat(N2, 222, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.set(N2, 100));
    assertThat(drain.isDestination(N2)).isFalse();
    heartbeat(N3, 333, NodeLiveness.NODE_LIVENESS_STOPPING, NodeDrainTarget.set(N2, 100));
    assertThat(drain.isDestination(N3)).as("a stopping node (self-fenced)").isFalse();
  }

  @Test
  void theTargetIsResentEveryIntervalOnlyToNodesThatHaveNotAcknowledgedIt() {
    drain.start(N2, 100);
    heartbeat(N1, 111, NodeLiveness.NODE_LIVENESS_ALIVE, NodeDrainTarget.set(N2, 100));
    clock.advance(4_999);
    assertThat(targetsSentTo(drain.tick(BUSY), NodeDrainTarget.set(N2, 100))).isEmpty();
    clock.advance(1);
    assertThat(targetsSentTo(drain.tick(BUSY), NodeDrainTarget.set(N2, 100))).containsExactly(N2, N3);
  }

  @Test
  void theTargetClearsWhenTheNodeLeavesAndBalancingWaitsOutTheCooldown() {
    assertThat(drain.balancePaused()).isFalse();
    drain.start(N2, 100);
    assertThat(drain.balancePaused()).isTrue();
    assertThat(drain.onNodeLeft(N3)).as("another node leaving clears nothing").isEmpty();
    List<Outbound> out = drain.onNodeLeft(N2);
    assertThat(targetsSentTo(out, NodeDrainTarget.cleared(100))).containsExactly(N1);
    assertThat(drain.target()).isEqualTo(NodeDrainTarget.cleared(100));
    assertThat(drain.isDestination(N1)).as("no target: acknowledging the clear is not needed").isTrue();
    clock.advance(29_999);
    assertThat(drain.balancePaused()).isTrue();
    clock.advance(1);
    assertThat(drain.balancePaused()).isFalse();
    // A node joining later learns the cleared target, so a delayed set cannot apply there.
    assertThat(targetsSentTo(drain.onNodeJoined(NodeId.of("n4")), NodeDrainTarget.cleared(100))).containsExactly(NodeId.of("n4"));
  }

  @Test
  void checksRefuseUnknownLastAndConcurrentDrainsAndTheCoordinatorsOwnNodeResignsFirst() {
    assertThat(drain.check(NodeId.of("n9"), N1)).isInstanceOfSatisfying(Check.Refused.class,
        r -> assertThat(r.reason()).isEqualTo(Check.Reason.UNKNOWN_NODE));
    assertThat(drain.check(N1, N1)).isInstanceOf(Check.ResignFirst.class);
    assertThat(drain.check(N2, N1)).isInstanceOf(Check.Start.class);
    drain.start(N2, 100);
    assertThat(drain.check(N2, N1)).isInstanceOf(Check.InProgress.class);
    assertThat(drain.check(N3, N1)).isInstanceOfSatisfying(Check.Refused.class,
        r -> assertThat(r.reason()).isEqualTo(Check.Reason.OTHER_DRAIN_IN_PROGRESS));

    DrainController two = new DrainController(VERSION, clock, SETTINGS);
    two.onNodeJoined(N1);
    two.onNodeJoined(N2);
    two.onNodeHeartbeat(N2, NodeHeartbeat.newBuilder().setNodeEpoch(1).setLiveness(NodeLiveness.NODE_LIVENESS_STOPPING).build());
    assertThat(two.check(N1, N2)).isInstanceOfSatisfying(Check.Refused.class,
        r -> assertThat(r.reason()).isEqualTo(Check.Reason.LAST_NODE));
  }

  @Test
  void aDrainOfAnEarlierCoordinatorIsContinuedAndOneOfAGoneNodeIsCleared() {
    List<Outbound> out = drain.onBootstrapTarget(N1, NodeDrainTarget.set(N3, 50).toProto());
    assertThat(drain.target()).isEqualTo(NodeDrainTarget.set(N3, 50));
    assertThat(targetsSentTo(out, NodeDrainTarget.set(N3, 50))).containsExactly(N1, N2, N3);
    assertThat(drain.onBootstrapTarget(N2, NodeDrainTarget.set(N3, 40).toProto())).isEmpty();
    assertThat(drain.target()).isEqualTo(NodeDrainTarget.set(N3, 50));

    DrainController other = new DrainController(VERSION, clock, SETTINGS);
    other.onNodeJoined(N1);
    other.onBootstrapTarget(N1, NodeDrainTarget.set(N3, 50).toProto());
    assertThat(other.target()).isEqualTo(NodeDrainTarget.cleared(50));
  }

  @Test
  void movesAreLimitedToTenOrOnePercent() {
    assertThat(drain.movesAllowed(5, 0)).isEqualTo(10);
    assertThat(drain.movesAllowed(20, 7)).isEqualTo(3);
    assertThat(drain.movesAllowed(1500, 2)).as("ceil(1502/100) = 16, two running").isEqualTo(14);
    assertThat(drain.movesAllowed(3, 12)).isZero();
  }
}
