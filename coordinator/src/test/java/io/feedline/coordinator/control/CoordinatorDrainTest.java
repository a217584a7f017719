package io.feedline.coordinator.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.DrainReply;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Node drain driven by the coordinator against simulated maintainer managers on a real embedded store. */
class CoordinatorDrainTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");

  private ControlHarness h;

  private void cluster(int changefeeds) {
    h = new ControlHarness(3);
    h.elect();
    h.stepUntil("bootstrapped", () -> h.control.bootstrapped(), 5);
    for (int i = 0; i < changefeeds; i++) {
      h.create("cf" + i);
    }
    h.stepUntil("all placed", () -> h.maintainers().size() == changefeeds, 40);
  }

  private DrainReply drain(NodeId node) {
    return h.call(r -> h.control.drain(r, node));
  }

  /** The refusal of a drain request (null when it was not refused). */
  private CoordinatorException refusal(NodeId node) {
    Throwable cause = h.failure(r -> h.control.drain(r, node));
    assertThat(cause).isInstanceOf(CoordinatorException.class);
    return (CoordinatorException) cause;
  }

  private long remaining() {
    return h.control.drainStatus().map(Map.Entry::getValue).orElse(-1L);
  }

  private long maintainersOn(NodeId node) {
    return h.maintainers().values().stream().filter(node::equals).count();
  }

  @Test
  void maintainersLeaveFirstThenDispatchersThenTheNodeIsStoppingAndTheTargetClearsWhenItLeaves() {
    cluster(12);
    long onN2 = maintainersOn(N2);
    assertThat(onN2).isPositive();
    // A maintainer on n3 still has dispatchers on n2.
    ChangefeedId lagging = h.maintainers().entrySet().stream().filter(e -> e.getValue().equals(N3)).findFirst().orElseThrow().getKey();
    h.node("n3").dispatchersOnTarget.put(lagging, 40L);
    int addsBefore = h.sent.size();
    // Nothing may ever be placed on the drained node once the drain began.
    h.invariants.add(() -> assertThat(h.sent.subList(addsBefore, h.sent.size()))
        .noneMatch(o -> o.to().equals(N2) && o.payload() instanceof AddMaintainerRequest));

    DrainReply first = drain(N2);
    assertThat(first.resignFirst()).isFalse();
    assertThat(first.remaining()).isGreaterThanOrEqualTo(onN2);

    h.stepUntil("maintainers off n2", () -> maintainersOn(N2) == 0 && h.maintainers().size() == 12, 60);
    h.step();
    assertThat(h.node("n2").liveness.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
    assertThat(h.node("n1").drainTarget).isEqualTo(h.node("n3").drainTarget);
    assertThat(h.node("n1").drainTarget.node()).isEqualTo(N2);
    assertThat(remaining()).as("the dispatchers still on n2").isEqualTo(40);
    assertThat(drain(N2).remaining()).as("asking again answers the same").isEqualTo(40);
    for (int i = 0; i < 10; i++) {
      h.step();
    }
    assertThat(h.node("n2").liveness.liveness()).as("not STOPPING while dispatchers remain").isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);

    h.node("n3").dispatchersOnTarget.put(lagging, 0L);
    h.stepUntil("n2 stopping", () -> h.node("n2").liveness.liveness() == NodeLiveness.NODE_LIVENESS_STOPPING, 20);
    assertThat(remaining()).isZero();
    assertThat(h.control.nodeReports().get(N2).liveness().liveness())
        .isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);

    long epoch = h.node("n1").drainTarget.epoch();
    h.killNode("n2");
    h.stepUntil("target cleared everywhere", () -> h.node("n1").drainTarget.equals(NodeDrainTarget.cleared(epoch))
        && h.node("n3").drainTarget.equals(NodeDrainTarget.cleared(epoch)), 5);
    assertThat(remaining()).as("no drain under way").isEqualTo(-1);
  }

  @Test
  void aMaintainerThatHasNotAcknowledgedTheTargetKeepsTheDrainOpen() {
    cluster(6);
    h.node("n1").maintainersAcknowledge = false;
    drain(N2);
    h.stepUntil("maintainers off n2", () -> maintainersOn(N2) == 0 && h.maintainers().size() == 6, 60);
    for (int i = 0; i < 10; i++) {
      h.step();
    }
    assertThat(remaining()).isEqualTo(maintainersOn(N1));
    assertThat(h.node("n2").liveness.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
    h.node("n1").maintainersAcknowledge = true;
    h.stepUntil("n2 stopping", () -> h.node("n2").liveness.liveness() == NodeLiveness.NODE_LIVENESS_STOPPING, 20);
  }

  @Test
  void aNodeReceivesMaintainersOnlyAfterAcknowledgingTheTarget() {
    cluster(0);
    // n3 does not get the target for now.
    h.drop = o -> o.to().equals(N3) && o.payload() instanceof SetDispatcherDrainTargetRequest;
    drain(N2);
    for (int i = 0; i < 6; i++) {
      h.create("late" + i);
    }
    h.stepUntil("placed", () -> h.maintainers().size() == 6, 40);
    assertThat(Set.copyOf(h.maintainers().values())).containsExactly(N1);

    h.drop = o -> false;
    h.clock.advance(5_000); // the target resend
    h.stepUntil("n3 acknowledged", () -> h.node("n3").drainTarget.node() != null, 5);
    h.create("later");
    h.stepUntil("placed", () -> h.maintainers().size() == 7, 20);
    assertThat(h.maintainers().get(ChangefeedId.of("later"))).isEqualTo(N3);
    // Balancing is paused during the drain: n1 keeps its six.
    h.clock.advance(60_000);
    for (int i = 0; i < 5; i++) {
      h.step();
    }
    assertThat(maintainersOn(N1)).isEqualTo(6);
  }

  @Test
  void movesOffTheTargetRunAtMostTenAtATime() {
    cluster(45);
    long onN2 = maintainersOn(N2);
    assertThat(onN2).isGreaterThan(10);
    // The origin never confirms its stop while this drop is on: moves stay in flight.
    h.drop = o -> o.to().equals(N2) && o.payload() instanceof RemoveMaintainerRequest;
    int before = h.sent.size();
    drain(N2);
    for (int i = 0; i < 5; i++) {
      h.step();
    }
    Set<String> moving = h.sent.subList(before, h.sent.size()).stream()
        .filter(o -> o.to().equals(N2) && o.payload() instanceof RemoveMaintainerRequest)
        .map(o -> ((RemoveMaintainerRequest) o.payload()).getChangefeedId()).collect(Collectors.toSet());
    assertThat(moving).hasSize(10);
    h.drop = o -> false;
    h.stepUntil("maintainers off n2", () -> maintainersOn(N2) == 0 && h.maintainers().size() == 45, 100);
  }

  @Test
  void aNewCoordinatorContinuesTheDrainItFindsOnTheNodes() {
    cluster(9);
    drain(N3);
    h.step();
    long epoch = h.node("n1").drainTarget.epoch();
    assertThat(h.node("n1").drainTarget).isEqualTo(NodeDrainTarget.set(N3, epoch));

    // The coordinator fails over before the drain is done; the new one learns the target from the nodes.
    h.elect();
    h.stepUntil("bootstrapped", () -> h.control.bootstrapped(), 5);
    h.stepUntil("n3 stopping", () -> h.node("n3").liveness.liveness() == NodeLiveness.NODE_LIVENESS_STOPPING, 80);
    assertThat(maintainersOn(N3)).isZero();
    assertThat(h.node("n1").drainTarget).as("the same drain, not a new one").isEqualTo(NodeDrainTarget.set(N3, epoch));
    assertThat(remaining()).isZero();
  }

  @Test
  void refusalsAndTheCoordinatorsOwnNode() {
    cluster(0);
    assertThat(refusal(NodeId.of("n9")).reason()).isEqualTo(CoordinatorException.Reason.NOT_FOUND);
    // The harness's coordinator runs on n1.
    assertThat(drain(N1).resignFirst()).isTrue();
    drain(N2);
    CoordinatorException busy = refusal(N3);
    assertThat(busy.reason()).isEqualTo(CoordinatorException.Reason.FAILED_PRECONDITION);
    assertThat(busy.getMessage()).contains("n2 is being drained");
  }
}
