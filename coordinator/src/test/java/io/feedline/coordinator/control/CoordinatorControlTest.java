package io.feedline.coordinator.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStoreException;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CoordinatorControlTest {

  private ControlHarness h;

  private void bootstrap(int nodes) {
    h = new ControlHarness(nodes);
    h.bootstrap();
  }

  private static ChangefeedId id(String cf) {
    return ChangefeedId.of(cf);
  }

  @Test
  void newChangefeedsArePlacedEvenlyWithTheirEpochPersistedFirst() throws Exception {
    bootstrap(3);
    for (int i = 0; i < 10; i++) {
      h.create("cf" + i);
    }
    h.stepUntil("all placed", () -> h.maintainers().size() == 10, 20);
    Map<NodeId, Long> perNode = h.maintainers().values().stream().collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    assertThat(perNode.values()).containsExactlyInAnyOrder(3L, 3L, 4L);
    for (int i = 0; i < 10; i++) {
      String cf = "cf" + i;
      h.stepUntil(cf + " settled", () -> h.settled(cf), 5);
      AddMaintainerRequest add = h.sent.stream().filter(o -> o.payload() instanceof AddMaintainerRequest a && a.getChangefeedId().equals(cf))
          .map(o -> (AddMaintainerRequest) o.payload()).findFirst().orElseThrow();
      // The add carries the persisted epoch and, as config, the persisted info with that epoch.
      assertThat(add.getEpoch()).isEqualTo(h.persisted(cf).epoch());
      assertThat(io.feedline.proto.ChangefeedInfo.parseFrom(add.getConfig()).getEpoch()).isEqualTo(add.getEpoch());
      assertThat(add.getElectionVersion()).isEqualTo(h.version());
    }
  }

  @Test
  void aStatusFromAStaleEpochIsDroppedAndItsMaintainerRemovedWithItsOwnEpochUntilConfirmed() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));
    FakeMaintainerManager other = h.nodes.values().stream().filter(n -> !n.id.equals(owner)).findFirst().orElseThrow();
    long persisted = h.persisted("cf1").epoch();

    // A zombie maintainer at an older epoch on the other node; the first remove sent to it is lost.
    other.run(id("cf1"), persisted - 1, 5);
    AtomicBoolean droppedOne = new AtomicBoolean();
    h.drop = o -> o.to().equals(other.id) && o.payload() instanceof RemoveMaintainerRequest && droppedOne.compareAndSet(false, true);
    h.stepUntil("zombie removed", () -> !other.maintainers.containsKey(id("cf1")), 20);

    List<RemoveMaintainerRequest> removes = other.received.stream().filter(m -> m instanceof RemoveMaintainerRequest)
        .map(m -> (RemoveMaintainerRequest) m).toList();
    assertThat(droppedOne).isTrue();
    assertThat(removes).isNotEmpty().allSatisfy(r -> assertThat(r.getEpoch()).isEqualTo(persisted - 1));
    // The real owner was never touched, and its checkpoint was never taken from the zombie.
    assertThat(h.running("cf1")).containsExactly(Map.entry(owner, persisted));
    assertThat(rejections("MaintainerStatus", "stale_epoch")).isGreaterThanOrEqualTo(1);

    // Once confirmed, the removal is no longer re-sent.
    int sentBefore = removes.size();
    for (int i = 0; i < 15; i++) {
      h.step();
    }
    assertThat(other.received.stream().filter(m -> m instanceof RemoveMaintainerRequest).count()).isEqualTo(sentBefore);
  }

  @Test
  void statusesForUnknownChangefeedsRemoveTheirMaintainerAndNullOrPartialStatusesAreHarmless() {
    bootstrap(1);
    FakeMaintainerManager n1 = h.node("n1");
    n1.run(id("ghost"), 77, 1);
    h.deliver(n1.id, MaintainerHeartbeat.newBuilder()
        .addStatuses(MaintainerStatus.getDefaultInstance())
        .addStatuses(MaintainerStatus.newBuilder().setChangefeedId("bad id!").setEpoch(3))
        .build());
    h.stepUntil("ghost removed", () -> n1.maintainers.isEmpty(), 10);
    RemoveMaintainerRequest remove = (RemoveMaintainerRequest) n1.received.stream().filter(m -> m instanceof RemoveMaintainerRequest).findFirst().orElseThrow();
    assertThat(remove.getEpoch()).isEqualTo(77);
    assertThat(remove.getCascade()).isTrue();
    assertThat(remove.getRemoved()).isTrue();
    assertThat(h.metrics.get("feedline.coordinator.malformed_statuses").counter().count()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void failoverAdoptsTheMaintainerAtThePersistedEpochAndStopsTheOther() {
    h = new ControlHarness(2);
    ChangefeedRecord r = h.registry.create(ChangefeedInfo.newBuilder().setId("cf1").setEpoch(10)
        .setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).build(), ChangefeedStatus.newBuilder().setCheckpointTs(5).build());
    h.node("n1").run(id("cf1"), 7, 5);   // left behind by an older term
    h.node("n2").run(id("cf1"), 10, 9);  // the owner at the persisted epoch
    h.elect();
    h.stepUntil("n1's stale maintainer stopped", () -> !h.node("n1").maintainers.containsKey(id("cf1")), 10);
    assertThat(h.maintainers()).containsEntry(id("cf1"), NodeId.of("n2"));
    assertThat(h.running("cf1")).containsExactly(Map.entry(NodeId.of("n2"), 10L));
    assertThat(h.persisted("cf1").epoch()).as("adoption needs no new epoch").isEqualTo(r.epoch());
    RemoveMaintainerRequest remove = (RemoveMaintainerRequest) h.node("n1").received.stream()
        .filter(m -> m instanceof RemoveMaintainerRequest).findFirst().orElseThrow();
    assertThat(remove.getEpoch()).isEqualTo(7);
    // The adopted maintainer's checkpoint is persisted.
    h.stepUntil("checkpoint persisted", () -> h.persisted("cf1").status().getCheckpointTs() == 9, 5);
  }

  @Test
  void placementWaitsUntilEveryNodeAnsweredTheBootstrap() {
    h = new ControlHarness(2);
    h.registry.create(ChangefeedInfo.newBuilder().setId("cf1").setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).build(),
        ChangefeedStatus.newBuilder().setCheckpointTs(5).build());
    h.node("n2").run(id("cf1"), 0, 5);
    h.drop = o -> o.to().equals(NodeId.of("n2"));
    h.elect();
    for (int i = 0; i < 10; i++) {
      h.step();
    }
    // n2 may run it: until n2 answers, no second maintainer is started anywhere.
    assertThat(h.running("cf1")).containsOnlyKeys(NodeId.of("n2"));
    assertThat(h.sent).noneMatch(o -> o.payload() instanceof AddMaintainerRequest);
    h.drop = o -> false;
    h.stepUntil("settled", () -> h.settled("cf1"), 20);
  }

  @Test
  void aMoveNeverRunsTwoMaintainersAndSurvivesNodeLossInEachPhase() {
    for (String phase : List.of("none", "origin-before-stop", "destination-before-stop", "destination-after-stop")) {
      bootstrap(3);
      h.invariants.add(() -> assertThat(h.running("cf1").size()).as(phase + ": maintainers of cf1 " + h.describe()).isLessThanOrEqualTo(1));
      h.create("cf1");
      h.stepUntil("placed", () -> h.settled("cf1"), 10);
      NodeId origin = h.maintainers().get(id("cf1"));
      NodeId dest = h.nodes.keySet().stream().filter(n -> !n.equals(origin)).findFirst().orElseThrow();
      long before = h.persisted("cf1").epoch();

      // Hold the origin's confirmation back so a node can be lost between the phases.
      h.drop = o -> o.to().equals(origin) && o.payload() instanceof RemoveMaintainerRequest;
      h.call(r -> h.control.moveMaintainer(r, id("cf1"), dest));
      h.stepUntil("move started", () -> h.persisted("cf1").epoch() > before, 5);
      switch (phase) {
        case "origin-before-stop" -> h.killNode(origin.value());
        case "destination-before-stop" -> h.killNode(dest.value());
        case "destination-after-stop" -> {
          h.drop = o -> o.to().equals(dest) && o.payload() instanceof AddMaintainerRequest;
          h.stepUntil("origin stopped", () -> !h.running("cf1").containsKey(origin), 10);
          h.killNode(dest.value());
        }
        default -> { }
      }
      h.drop = o -> false;
      h.stepUntil(phase + ": one owner at the persisted epoch", () -> h.settled("cf1"), 30);
      assertThat(h.persisted("cf1").epoch()).isGreaterThan(before);
      if (phase.equals("none")) {
        assertThat(h.maintainers().get(id("cf1"))).isEqualTo(dest);
      }
      h = null;
    }
  }

  @Test
  void anOperatorRejectedAfterItsBumpStillLeavesTheBumpedEpochInMemory() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId origin = h.maintainers().get(id("cf1"));
    NodeId dest = h.nodes.keySet().stream().filter(n -> !n.equals(origin)).findFirst().orElseThrow();
    long before = h.persisted("cf1").epoch();

    // The move reserves the slot and asks for its epoch's timestamp; a second move meanwhile is refused.
    long first = h.request(r -> h.control.moveMaintainer(r, id("cf1"), dest));
    long second = h.request(r -> h.control.moveMaintainer(r, id("cf1"), dest));
    assertThat(h.reply(second).orElseThrow().error()).hasMessageContaining("cannot move now");
    // The destination leaves before the epoch is persisted: the bump lands, the move is not pushed.
    h.killNode(dest.value());
    h.settle();
    assertThat(h.reply(first).orElseThrow().error()).isNull();
    assertThat(h.control.operatorCount()).as("the move is given up").isZero();
    long persisted = h.persisted("cf1").epoch();
    assertThat(persisted).isGreaterThan(before);
    assertThat(h.memory("cf1").epoch()).as("in-memory epoch equals the persisted one").isEqualTo(persisted);
    // The origin still runs at the old epoch: it is now stale and gets replaced by a new owner.
    h.stepUntil("one owner at the persisted epoch", () -> h.settled("cf1"), 20);
  }

  @Test
  void pauseStopsWithCascadeAndResumeClearsTheErrorAndBumps() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));

    // The maintainer reports an error: warning persisted with the error, through an epoch bump.
    long beforeError = h.persisted("cf1").epoch();
    h.nodes.get(owner).failing.put(id("cf1"), "sink unreachable");
    h.stepUntil("warning", () -> h.persisted("cf1").info().getState() == ChangefeedState.CHANGEFEED_STATE_WARNING, 5);
    ChangefeedRecord warned = h.persisted("cf1");
    assertThat(warned.epoch()).isGreaterThan(beforeError);
    assertThat(warned.info().getError().getMessage()).isEqualTo("sink unreachable");
    h.nodes.get(owner).failing.clear();
    h.stepUntil("erroring maintainer removed", () -> h.running("cf1").isEmpty(), 10);

    h.call(r -> h.control.pause(r, id("cf1")));
    h.stepUntil("stopped", () -> h.persisted("cf1").status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_NONE
        && h.persisted("cf1").info().getState() == ChangefeedState.CHANGEFEED_STATE_STOPPED, 20);
    assertThat(h.running("cf1")).isEmpty();
    // Nobody ran it, so the stop went to a remove-only maintainer at a newer epoch, cascading.
    RemoveMaintainerRequest stop = h.sent.stream().filter(o -> o.payload() instanceof RemoveMaintainerRequest r && !r.getRemoved()
        && r.getEpoch() > warned.epoch()).map(o -> (RemoveMaintainerRequest) o.payload()).findFirst().orElseThrow();
    assertThat(stop.getCascade()).isTrue();

    long beforeResume = h.persisted("cf1").epoch();
    ChangefeedRecord resumed = h.call(r -> h.control.resume(r, id("cf1"), 0));
    assertThat(resumed.epoch()).isGreaterThan(beforeResume);
    assertThat(resumed.info().getState()).isEqualTo(ChangefeedState.CHANGEFEED_STATE_NORMAL);
    assertThat(resumed.info().hasError()).isFalse();
    assertThat(h.persisted("cf1").info().hasError()).isFalse();
    h.stepUntil("running again", () -> h.settled("cf1"), 10);
  }

  @Test
  void anAdminCallDuringACheckpointWriteIsQueuedBehindItNotRefused() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);

    // The next checkpoint write is held in flight until released.
    h.hold = op -> op instanceof RegistryOp.WriteStatuses;
    long checkpoint = h.persisted("cf1").status().getCheckpointTs() + 1_000;
    h.nodes.values().forEach(n -> n.advanceCheckpoints(checkpoint));
    h.stepUntil("a checkpoint write in flight", h::holding, 5);

    long paused = h.request(r -> h.control.pause(r, id("cf1")));
    h.step();
    assertThat(h.reply(paused)).as("the pause waits for the checkpoint write").isEmpty();

    h.release();
    ChangefeedRecord answer = (ChangefeedRecord) h.reply(paused).orElseThrow().value();
    ChangefeedRecord persisted = h.persisted("cf1");
    assertThat(persisted).isEqualTo(answer);
    assertThat(persisted.info().getState()).isEqualTo(ChangefeedState.CHANGEFEED_STATE_STOPPED);
    assertThat(persisted.status().getCheckpointTs()).as("the checkpoint write landed first").isEqualTo(checkpoint);
  }

  @Test
  void aWriteThatLosesItsCompareAndSetIsComputedAgainOverTheRecordsReadBackAndGivesUpAfterThreeTries() {
    bootstrap(2);
    h.create("cf1");
    h.create("cf2");
    h.stepUntil("placed", () -> h.settled("cf1") && h.settled("cf2"), 10);

    // Another writer moves cf1's status once, between the decision and the write: read back, written on the second try.
    AtomicBoolean interfered = new AtomicBoolean();
    h.beforeCall = op -> {
      if (op instanceof RegistryOp.WriteInfoAndStatus w && w.current().id().equals(id("cf1")) && interfered.compareAndSet(false, true)) {
        h.registry.touchStatus(id("cf1"));
      }
    };
    ChangefeedRecord paused = h.call(r -> h.control.pause(r, id("cf1")));
    assertThat(interfered).isTrue();
    assertThat(paused).isEqualTo(h.persisted("cf1")).isEqualTo(h.memory("cf1"));
    assertThat(paused.info().getState()).isEqualTo(ChangefeedState.CHANGEFEED_STATE_STOPPED);

    // Every try of cf2's pause loses: it fails after three, with the conflict, and the write queued behind it still runs.
    AtomicInteger tries = new AtomicInteger();
    h.beforeCall = op -> {
      if (op instanceof RegistryOp.WriteInfoAndStatus w && w.current().id().equals(id("cf2"))) {
        tries.incrementAndGet();
        h.registry.touchStatus(id("cf2"));
      }
    };
    long pause = h.request(r -> h.control.pause(r, id("cf2")));
    long remove = h.request(r -> h.control.remove(r, id("cf2")));
    h.settle();
    assertThat(tries).hasValue(ChangefeedWrites.ATTEMPTS);
    assertThat(h.reply(pause).orElseThrow().error()).isInstanceOfSatisfying(ChangefeedStoreException.class,
        e -> assertThat(e.reason()).isEqualTo(ChangefeedStoreException.Reason.CONFLICT));
    assertThat(h.reply(remove).orElseThrow().error()).as("the remove queued behind the pause ran").isNull();
    assertThat(h.persisted("cf2").status().getProgress()).isEqualTo(ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING);
  }

  @Test
  void outcomesThatComeBackAfterTheTermEndedChangeNothing() {
    bootstrap(1);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    h.hold = op -> op instanceof RegistryOp.WriteInfoAndStatus;
    long pause = h.request(r -> h.control.pause(r, id("cf1")));
    h.settle();
    assertThat(h.holding()).isTrue();
    h.control.stop();
    h.release();
    assertThat(h.reply(pause)).as("a stopped term answers nothing (its runtime fails what waits)").isEmpty();
    assertThat(h.memory("cf1").info().getState()).as("memory of the ended term unchanged").isEqualTo(ChangefeedState.CHANGEFEED_STATE_NORMAL);
    assertThat(h.control.tick().isEmpty()).isTrue();
  }

  @Test
  void aNodeReportOlderThanOneAppliedIsDroppedAndCountedAndANewIncarnationTakesOver() {
    bootstrap(2);
    NodeId n2 = NodeId.of("n2");
    // Node epochs above the fake node's own (its heartbeats while bootstrapping came from an older incarnation).
    NodeHeartbeat newer = NodeHeartbeat.newBuilder().setNodeEpoch(5000).setSeq(10).setDispatchers(7)
        .setLiveness(NodeLiveness.NODE_LIVENESS_DRAINING).build();
    NodeHeartbeat older = newer.toBuilder().setSeq(9).setDispatchers(3).setLiveness(NodeLiveness.NODE_LIVENESS_ALIVE).build();
    h.deliver(n2, newer);
    h.deliver(n2, older);
    assertThat(h.control.nodeReports().get(n2).dispatchers()).as("the reordered heartbeat did not overwrite the newer one").isEqualTo(7);
    assertThat(h.control.nodeReports().get(n2).liveness().liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
    h.deliver(n2, SetNodeLivenessResponse.newBuilder().setNodeEpoch(5000).setSeq(8).setLiveness(NodeLiveness.NODE_LIVENESS_ALIVE).build());
    assertThat(h.control.nodeReports().get(n2).liveness().liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
    assertThat(rejections("NodeHeartbeat", "stale_sequence")).isEqualTo(1);
    assertThat(rejections("SetNodeLivenessResponse", "stale_sequence")).isEqualTo(1);

    // The node restarted (a new incarnation numbers its reports from 1 again); the old one is stale from now on.
    h.deliver(n2, newer.toBuilder().setNodeEpoch(6000).setSeq(1).setDispatchers(1).build());
    assertThat(h.control.nodeReports().get(n2).nodeEpoch()).isEqualTo(6000);
    h.deliver(n2, newer.toBuilder().setSeq(11).build());
    assertThat(h.control.nodeReports().get(n2).dispatchers()).isEqualTo(1);
    assertThat(rejections("NodeHeartbeat", "stale_epoch")).isEqualTo(1);
  }

  @Test
  void anAnswerToAnotherTermsBootstrapAndAStoppedStaleMaintainersStatusAreCountedNotActedOn() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));
    long epoch = h.persisted("cf1").epoch();

    h.deliver(owner, CoordinatorBootstrapResponse.newBuilder().setElectionVersion(h.version() - 10)
        .addStatuses(MaintainerStatus.newBuilder().setChangefeedId("cf1").setEpoch(epoch - 1).setState(ComponentState.COMPONENT_STATE_WORKING))
        .build());
    assertThat(rejections("CoordinatorBootstrapResponse", "stale_epoch")).isEqualTo(1);
    assertThat(rejections("MaintainerStatus", "stale_epoch")).as("statuses of a refused answer are not looked at").isZero();

    // A maintainer of an older epoch says it stopped: nobody asked it to, no operator waits for it.
    h.deliver(owner, MaintainerHeartbeat.newBuilder().addStatuses(MaintainerStatus.newBuilder().setChangefeedId("cf1")
        .setEpoch(epoch - 1).setState(ComponentState.COMPONENT_STATE_STOPPED)).build());
    assertThat(rejections("MaintainerStatus", "stale_epoch")).isEqualTo(1);
    assertThat(h.maintainers()).as("the owner is untouched").containsEntry(id("cf1"), owner);
  }

  private double rejections(String type, String reason) {
    return h.metrics.get("feedline.fence.rejections").tags("role", "coordinator", "type", type, "reason", reason).counter().count();
  }

  @Test
  void aNodeThatLeavesWhileTheRegistryLoadsIsNotWaitedForAndAdminRequestsWaitForTheLoad() {
    h = new ControlHarness(2);
    h.registry.create(ChangefeedInfo.newBuilder().setId("cf1").setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).build(),
        ChangefeedStatus.newBuilder().setCheckpointTs(5).build());
    CoordinatorControl control = new CoordinatorControl(NodeId.of("n1"), 10, h.clock, ControlHarness.SETTINGS, h.metrics);
    h.control = control;
    h.apply(control.start(Set.copyOf(h.nodes.keySet())));
    // While the registry loads: n2 dies, and a request comes.
    h.killNode("n2");
    assertThat(h.failure(r -> control.pause(r, id("cf1")))).hasMessageContaining("starting");
    h.apply(control.onLoaded(h.registry.loadAll()));
    h.stepUntil("bootstrapped without the node that left", control::bootstrapped, 5);
    h.stepUntil("placed on the node left", () -> h.settled("cf1"), 10);
    assertThat(h.maintainers()).containsEntry(id("cf1"), NodeId.of("n1"));
  }

  @Test
  void aRemoveQueuedBehindAPauseIsNotUndoneByThePausesStopAndAResumeBehindItIsRefused() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    h.call(r -> h.control.pause(r, id("cf1")));
    // The pause's stop is under way (its operator waits for the maintainer); a remove and a resume come in.
    h.call(r -> h.control.remove(r, id("cf1")));
    assertThat(h.failure(r -> h.control.resume(r, id("cf1"), 0))).hasMessageContaining("stopping");
    h.stepUntil("deleted", () -> h.registry.load(id("cf1")).isEmpty(), 30);
    assertThat(h.running("cf1")).isEmpty();
  }

  @Test
  void aWarningChangefeedIsNormalAgainOnceItsNewMaintainerMovesTheCheckpointWhileCheckpointsArePersisted() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));
    h.nodes.get(owner).failing.put(id("cf1"), "sink unreachable");
    h.stepUntil("warning", () -> h.persisted("cf1").info().getState() == ChangefeedState.CHANGEFEED_STATE_WARNING, 5);
    h.nodes.values().forEach(n -> n.failing.clear());
    // Retried after the backoff; the new maintainer's progress is persisted at every step.
    for (int i = 0; i < 150 && h.persisted("cf1").info().getState() != ChangefeedState.CHANGEFEED_STATE_NORMAL; i++) {
      long next = h.persisted("cf1").status().getCheckpointTs() + 1_000;
      h.nodes.values().forEach(n -> n.advanceCheckpoints(next));
      h.step();
    }
    assertThat(h.persisted("cf1").info().getState()).isEqualTo(ChangefeedState.CHANGEFEED_STATE_NORMAL);
    assertThat(h.persisted("cf1").info().hasError()).isFalse();
    h.stepUntil("one owner", () -> h.settled("cf1"), 10);
  }

  @Test
  void aMoveAskedWhileACheckpointWriteIsInFlightGoesAhead() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId origin = h.maintainers().get(id("cf1"));
    NodeId dest = h.nodes.keySet().stream().filter(n -> !n.equals(origin)).findFirst().orElseThrow();
    h.hold = op -> op instanceof RegistryOp.WriteStatuses;
    long checkpoint = h.persisted("cf1").status().getCheckpointTs() + 1_000;
    h.nodes.values().forEach(n -> n.advanceCheckpoints(checkpoint));
    h.stepUntil("a checkpoint write in flight", h::holding, 5);

    long move = h.request(r -> h.control.moveMaintainer(r, id("cf1"), dest));
    assertThat(h.reply(move).orElseThrow().error()).isNull();
    h.settle();
    h.release();
    h.stepUntil("moved", () -> h.settled("cf1") && dest.equals(h.maintainers().get(id("cf1"))), 20);
    assertThat(h.persisted("cf1").status().getCheckpointTs()).as("the checkpoint written beside the bump stayed").isGreaterThanOrEqualTo(checkpoint);
  }

  @Test
  void removeClosesTheMaintainerThenDeletesTheRecords() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));
    long epoch = h.persisted("cf1").epoch();
    h.call(r -> h.control.remove(r, id("cf1")));
    h.stepUntil("deleted", () -> h.registry.load(id("cf1")).isEmpty(), 20);
    assertThat(h.running("cf1")).isEmpty();
    RemoveMaintainerRequest remove = (RemoveMaintainerRequest) h.nodes.get(owner).received.stream()
        .filter(m -> m instanceof RemoveMaintainerRequest).findFirst().orElseThrow();
    assertThat(remove.getEpoch()).as("stop is fenced by the epoch it stops").isEqualTo(epoch);
    assertThat(remove.getRemoved()).isTrue();
    assertThat(remove.getCascade()).isTrue();
    assertThat(h.control.query(id("cf1"))).isEmpty();
  }

  @Test
  void stoppingAChangefeedWhoseMaintainersNodeIsGoneBumpsThenRemovesOnALiveNode() {
    bootstrap(2);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 10);
    NodeId owner = h.maintainers().get(id("cf1"));
    NodeId survivor = h.nodes.keySet().stream().filter(n -> !n.equals(owner)).findFirst().orElseThrow();
    long before = h.persisted("cf1").epoch();
    // The node dies and the changefeed is paused before it was re-placed.
    h.drop = o -> o.payload() instanceof AddMaintainerRequest;
    h.killNode(owner.value());
    h.call(r -> h.control.pause(r, id("cf1")));
    h.stepUntil("stopped", () -> h.persisted("cf1").status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_NONE, 20);
    RemoveMaintainerRequest removeOnly = (RemoveMaintainerRequest) h.nodes.get(survivor).received.stream()
        .filter(m -> m instanceof RemoveMaintainerRequest).reduce((a, b) -> b).orElseThrow();
    assertThat(removeOnly.getEpoch()).isGreaterThan(before).isEqualTo(h.persisted("cf1").epoch());
    assertThat(removeOnly.getCascade()).isTrue();
  }

  @Test
  void balanceMovesMaintainersToANewNode() {
    bootstrap(1);
    for (int i = 0; i < 6; i++) {
      h.create("cf" + i);
    }
    h.stepUntil("all on n1", () -> h.maintainers().size() == 6, 10);
    h.addNode("n2");
    for (int i = 0; i < 5; i++) {
      h.step();
    }
    h.clock.advance(ControlHarness.SETTINGS.balanceInterval().toMillis());
    h.stepUntil("balanced", () -> {
      Collection<NodeId> owners = h.maintainers().values();
      return owners.size() == 6 && owners.stream().filter(n -> n.value().equals("n2")).count() == 3;
    }, 40);
    for (int i = 0; i < 6; i++) {
      String cf = "cf" + i;
      h.stepUntil(cf + " settled", () -> h.settled(cf), 5);
    }
  }

  @Test
  void anUpdateWhoseChangeThrowsFailsAloneAndTheChangefeedsNextWriteGoesThrough() {
    bootstrap(1);
    h.create("cf1");
    h.call(r -> h.control.pause(r, id("cf1")));
    h.stepUntil("stopped", () -> h.persisted("cf1").status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_NONE, 20);

    assertThat(h.failure(r -> h.control.update(r, id("cf1"), info -> {
      throw new IllegalArgumentException("sink uri 'x' is not a URI");
    }))).hasMessageContaining("not a URI");
    ChangefeedRecord updated = h.call(r -> h.control.update(r, id("cf1"), info -> info.toBuilder().setSinkUri("file:///tmp/cf1").build()));
    assertThat(updated.info().getSinkUri()).isEqualTo("file:///tmp/cf1");
    assertThat(h.persisted("cf1").info().getSinkUri()).isEqualTo("file:///tmp/cf1");
  }

  @Test
  void adminErrorsAreClear() {
    bootstrap(1);
    h.create("cf1");
    assertThat(h.failure(r -> h.control.create(r, ChangefeedInfo.newBuilder().setId("cf1").build())))
        .isInstanceOfSatisfying(CoordinatorException.class, e -> assertThat(e.reason()).isEqualTo(CoordinatorException.Reason.ALREADY_EXISTS));
    assertThat(h.failure(r -> h.control.create(r, ChangefeedInfo.newBuilder().setId("no spaces").build())))
        .isInstanceOfSatisfying(CoordinatorException.class, e -> assertThat(e.reason()).isEqualTo(CoordinatorException.Reason.INVALID_ARGUMENT));
    assertThat(h.failure(r -> h.control.update(r, id("cf1"), i -> i.toBuilder().setSinkUri("file:///tmp/x").build())))
        .isInstanceOfSatisfying(CoordinatorException.class, e -> assertThat(e.reason()).isEqualTo(CoordinatorException.Reason.FAILED_PRECONDITION));
    assertThat(h.failure(r -> h.control.pause(r, id("nope"))))
        .isInstanceOfSatisfying(CoordinatorException.class, e -> assertThat(e.reason()).isEqualTo(CoordinatorException.Reason.NOT_FOUND));
  }
}
