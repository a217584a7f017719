package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.A;
import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static io.feedline.maintainer.changefeed.MaintainerHarness.C;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.maintainer.operator.MoveSpan;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class SchedulingTest {

  private static List<Outbound> schedules(List<Outbound> out) {
    return out.stream().filter(o -> o.payload() instanceof ScheduleDispatcherRequest).toList();
  }

  private static final TableSpan T1 = TableSpans.wholeTable(1);

  /** The self-healing tests' start: {@code tables} tables settled on the three nodes, and where table 1 runs. */
  private record Settled(MaintainerHarness h, NodeId where, DispatcherKey dispatcher) {}

  private static Settled settled(int tables) {
    MaintainerHarness h = bootstrapped(tables, 10_000);
    h.settle();
    return new Settled(h, h.maintainer.spans().get(T1).node(), h.maintainer.spans().get(T1).dispatcher());
  }

  private static MaintainerHarness bootstrapped(int tables, int batchSize) {
    MaintainerHarness h = new MaintainerHarness(100, batchSize, A, B, C);
    LongStream.rangeClosed(1, tables).forEach(h.side.tables::add);
    for (int i = 0; i < 4 && !h.maintainer.working(); i++) {
      h.deliver(h.tickOnly());
    }
    assertThat(h.maintainer.working()).isTrue();
    return h;
  }

  /**
   * A million spans are placed in rounds of at most one schedule message per node, each carrying up to
   * a batch of creates; the dispatcher side answers between rounds.
   */
  @Test
  void aMillionSpansArePlacedWithOneBatchedScheduleMessagePerNodePerRound() {
    int spans = 1_000_000;
    int batch = 100_000;
    MaintainerHarness h = bootstrapped(spans, batch);
    long started = System.nanoTime();
    int rounds = 0;
    long messages = 0;
    long creates = 0;
    while (!h.maintainer.spans().absent().isEmpty() || h.maintainer.operators().size() > 0) {
      // One round: the maintainer ticks, the dispatcher side creates and starts, every node heartbeats once.
      List<Outbound> out = schedules(h.tickOnly());
      h.deliver(out);
      h.side.startAll();
      h.heartbeats();
      h.sent.clear();
      rounds++;
      Map<NodeId, Integer> perNode = new HashMap<>();
      out.forEach(o -> perNode.merge(o.to(), 1, Integer::sum));
      assertThat(perNode.values()).as("round %d: one schedule message per node", rounds).allMatch(n -> n == 1);
      long itemsThisRound = out.stream().mapToLong(o -> ((ScheduleDispatcherRequest) o.payload()).getItemsCount()).sum();
      assertThat(itemsThisRound).as("round %d: at most a batch in flight", rounds).isLessThanOrEqualTo(batch);
      messages += out.size();
      creates += itemsThisRound;
      assertThat(rounds).isLessThan(100);
    }
    h.round();
    // A figure, not an assertion: the maintainer's and the fake dispatcher side's work together, on one thread.
    System.out.printf("placed %d spans on 3 nodes: %d rounds, %d schedule messages, %d items, %d ms%n", spans, rounds, messages, creates,
        (System.nanoTime() - started) / 1_000_000);
    assertThat(creates).isEqualTo(spans);
    assertThat(messages).isLessThanOrEqualTo(3L * (spans / batch + 1));
    assertThat(h.side.liveCount()).isEqualTo(spans + 1);
    assertThat(h.maintainer.spans().load().values()).allMatch(n -> Math.abs(n - spans / 3) <= 1);
  }

  /**
   * A drain target: no span is placed on it, the spans on it move off at most
   * {@code DrainConcurrency.limit(n)} at a time, the status reports what is left, and balancing waits.
   */
  @Test
  void aDrainTargetIsEmptiedWithBoundedMovesAndReportedInTheStatus() {
    MaintainerHarness h = bootstrapped(300, 10_000);
    h.settle();
    int onC = h.maintainer.spans().on(C).size();
    assertThat(onC).isEqualTo(100);
    DrainTarget target = DrainTarget.newBuilder().setTargetNode(C.value()).setTargetEpoch(42).build();
    h.maintainer.drainTarget(target);

    int rounds = 0;
    while (!h.maintainer.spans().on(C).isEmpty() || h.maintainer.operators().size() > 0) {
      h.round();
      h.side.startAll();
      DrainProgress progress = h.maintainer.status().getDrainProgress();
      assertThat(progress.getTarget()).isEqualTo(target);
      assertThat(progress.getDrainMovesInFlight()).as("round %d: moves in flight", rounds).isLessThanOrEqualTo(10);
      assertThat(progress.getDispatchersOnTarget()).isEqualTo(h.maintainer.spans().on(C).size());
      assertThat(rounds++).as("drained within a bounded number of rounds").isLessThan(200);
    }
    h.settle();
    assertThat(h.maintainer.spans().on(C)).isEmpty();
    assertThat(h.maintainer.spans().load().getOrDefault(A, 0) + h.maintainer.spans().load().getOrDefault(B, 0)).isEqualTo(300);
    assertThat(h.maintainer.status().getDrainProgress().getDispatchersOnTarget()).isZero();
    assertThat(h.maintainer.status().getDrainProgress().getDrainMovesInFlight()).isZero();

    // Cleared: the node is a destination again, and balancing brings spans back to it.
    h.maintainer.drainTarget(DrainTarget.getDefaultInstance());
    h.now += 60_000;
    h.settle();
    assertThat(h.maintainer.spans().on(C)).isNotEmpty();
  }

  /**
   * A move goes on at the pace of the dispatchers' replies, not of the tick: the heartbeat that reports a
   * move's origin Stopped brings its create at once, and the one that reports it Working frees its place for
   * the next move. With the tick alone each step waited up to 100 ms, twice per move.
   */
  @Test
  void drainMovesGoOnAtTheDispatchersPaceNotTheTicks() {
    MaintainerHarness h = bootstrapped(300, 10_000);
    h.settle();
    h.maintainer.drainTarget(DrainTarget.newBuilder().setTargetNode(C.value()).setTargetEpoch(42).build());
    h.deliver(h.tickOnly()); // the only tick: the first moves ask their origins on C to stop
    int limit = h.maintainer.operators().size();
    assertThat(limit).isPositive();

    h.sent.clear();
    h.heartbeats(); // C reports them Stopped
    assertThat(h.sent.stream().filter(o -> !o.to().equals(C) && o.payload() instanceof ScheduleDispatcherRequest r
        && r.getItemsList().stream().allMatch(i -> i.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE))
        .mapToInt(o -> ((ScheduleDispatcherRequest) o.payload()).getItemsCount()).sum())
        .as("every stopped origin's create, sent with the heartbeat's handling").isEqualTo(limit);
    h.side.startAll();
    h.heartbeats(); // the destinations report Working: the moves finish and the next ones start
    assertThat(h.maintainer.spans().on(C).size()).as("a wave moved off without a second tick").isLessThanOrEqualTo(100 - limit);
    assertThat(h.maintainer.operators().size()).as("the freed places taken by the next moves, within the limit").isBetween(1, limit);
    for (int rounds = 0; !h.maintainer.spans().on(C).isEmpty(); rounds++) {
      assertThat(rounds).as("drained by heartbeats alone").isLessThan(100);
      h.heartbeats();
      h.side.startAll();
      h.heartbeats();
    }
    assertThat(h.maintainer.spans().load()).containsOnlyKeys(A, B).allSatisfy((node, n) -> assertThat(n).isEqualTo(150));
  }

  /**
   * The moves of one drain round spread over the destinations by their load including the moves already
   * heading there (the cluster drain test saw a whole round of moves go to the one least-loaded node).
   */
  @Test
  void drainMovesInFlightCountOnTheirDestinations() {
    MaintainerHarness h = bootstrapped(3_000, 10_000);
    h.settle();
    h.maintainer.drainTarget(DrainTarget.newBuilder().setTargetNode(C.value()).setTargetEpoch(42).build());
    h.round();

    Map<NodeId, Long> heading = h.maintainer.operators().operators().stream()
        .filter(MoveSpan.class::isInstance).map(op -> ((MoveSpan) op).destination())
        .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    assertThat(heading.values().stream().mapToLong(Long::longValue).sum()).as("one round's moves").isEqualTo(30);
    assertThat(heading).as("equally loaded destinations get equal shares").containsOnlyKeys(A, B)
        .allSatisfy((node, moves) -> assertThat(moves).isEqualTo(15));
  }

  /**
   * The maintainer's own node is the drain target. Maintainers leave the target first (DESIGN §8): it moves
   * no span and balances nothing until the coordinator has moved it, and its successor drains the spans. A
   * span move it started would be cut in half by its own move: the origin stopped, the destination never
   * created, the span without a dispatcher until the successor has bootstrapped and placed it again (the
   * cluster drain test saw 30 such spans per maintainer on the target, each unreplicated for 1.5 s).
   */
  @Test
  void aMaintainerOnTheDrainTargetLeavesItsSpansToItsSuccessor() {
    MaintainerHarness h = bootstrapped(300, 10_000);
    h.settle();
    assertThat(h.maintainer.spans().on(A)).hasSize(100);
    DrainTarget target = DrainTarget.newBuilder().setTargetNode(A.value()).setTargetEpoch(42).build();
    h.maintainer.drainTarget(target);
    h.now += 60_000; // a balance round is due as well

    for (int i = 0; i < 10; i++) {
      assertThat(schedules(h.round())).as("round %d: nothing moves while the maintainer itself is still on the target", i).isEmpty();
      h.side.startAll();
    }
    assertThat(h.maintainer.spans().on(A)).hasSize(100);
    assertThat(h.maintainer.status().getDrainProgress().getDispatchersOnTarget()).isEqualTo(100);
    assertThat(h.maintainer.status().getDrainProgress().getDrainMovesInFlight()).isZero();

    // The coordinator moved the maintainer to B: its successor takes the spans off A.
    h.failover(B, MaintainerHarness.EPOCH + 1, 100);
    h.maintainer.drainTarget(target);
    for (int i = 0; !h.maintainer.working() || !h.maintainer.spans().on(A).isEmpty() || h.maintainer.operators().size() > 0; i++) {
      assertThat(i).as("drained by the successor within a bounded number of rounds").isLessThan(200);
      h.round();
      h.side.startAll();
    }
    assertThat(h.side.liveCount()).as("300 spans and the successor's trigger").isEqualTo(301);
    for (long t = 1; t <= 300; t++) {
      assertThat(h.side.liveFor(TableSpans.wholeTable(t))).hasSize(1);
    }
  }

  @Test
  void theDefaultBatchKeepsTenThousandOperatorsInFlightAtMost() {
    MaintainerHarness h = bootstrapped(25_000, MaintainerConfig.batchSizeOf(io.feedline.proto.ChangefeedInfo.getDefaultInstance()));
    List<Outbound> first = schedules(h.tickOnly());
    long items = first.stream().mapToLong(o -> ((ScheduleDispatcherRequest) o.payload()).getItemsCount()).sum();
    assertThat(items).isEqualTo(10_000);
    assertThat(first).hasSize(3);
    // Nothing answered: the next rounds resend nothing new until the resend interval, and never exceed the batch.
    assertThat(schedules(h.tickOnly())).isEmpty();
    assertThat(h.maintainer.operators().size()).isEqualTo(10_000);
  }

  @Test
  void unansweredCreatesAreResentOncePerResendIntervalWithTheSameIds() {
    MaintainerHarness h = bootstrapped(3, 10_000);
    h.side.answerSchedules = false;
    List<Outbound> first = schedules(h.tickOnly());
    for (int i = 0; i < 4; i++) {
      assertThat(schedules(h.tickOnly())).isEmpty();
    }
    List<Outbound> again = schedules(h.tickOnly());
    assertThat(again).extracting(Outbound::payload).containsExactlyInAnyOrderElementsOf(first.stream().map(Outbound::payload).toList());
  }

  @Test
  void balanceMovesSpansOffTheFullestNodeOnlyWhenStableOriginFirst() {
    MaintainerHarness h = new MaintainerHarness(100, 10_000, A, B);
    LongStream.rangeClosed(1, 6).forEach(h.side.tables::add);
    h.settle();
    assertThat(h.maintainer.spans().load()).containsEntry(A, 3).containsEntry(B, 3);
    h.side.nodes.put(C, new FakeDispatcherSide.Node());
    h.live.add(C);
    h.settle();
    h.now += 15_000;
    List<Outbound> out = schedules(h.tickOnly());
    List<DispatcherSchedule> items = out.stream().flatMap(o -> ((ScheduleDispatcherRequest) o.payload()).getItemsList().stream()).toList();
    assertThat(items).as("the moves stop their origins first").isNotEmpty()
        .allMatch(i -> i.getAction() == ScheduleAction.SCHEDULE_ACTION_REMOVE);
    h.deliver(out);
    h.heartbeats();
    h.settle();
    assertThat(h.maintainer.spans().load()).containsEntry(A, 2).containsEntry(B, 2).containsEntry(C, 2);
    for (long t = 1; t <= 6; t++) {
      assertThat(h.side.liveFor(TableSpans.wholeTable(t))).hasSize(1);
    }
  }

  /**
   * Balance pauses while a drain is active (DESIGN §8), even when this changefeed has nothing left on the
   * target: moving drained spans a second time during the drain is avoidable churn. It resumes once the
   * target is cleared.
   */
  @Test
  void balanceWaitsWhileADrainIsActiveAndResumesOnceItIsCleared() {
    MaintainerHarness h = new MaintainerHarness(100, 10_000, A, B);
    LongStream.rangeClosed(1, 6).forEach(h.side.tables::add);
    h.settle();
    h.side.nodes.put(C, new FakeDispatcherSide.Node());
    h.live.add(C);
    h.settle();
    // Another node is drained; none of this changefeed's spans is on it.
    h.maintainer.drainTarget(DrainTarget.newBuilder().setTargetNode("d").setTargetEpoch(42).build());
    h.now += 60_000;
    for (int i = 0; i < 10; i++) {
      assertThat(schedules(h.round())).as("round %d: no balance during the drain", i).isEmpty();
    }
    assertThat(h.maintainer.spans().load()).containsEntry(A, 3).containsEntry(B, 3).doesNotContainKey(C);

    h.maintainer.drainTarget(DrainTarget.newBuilder().setTargetEpoch(42).build());
    h.settle();
    assertThat(h.maintainer.spans().load()).containsEntry(A, 2).containsEntry(B, 2).containsEntry(C, 2);
  }

  @Test
  void selfHealingAStoppedDispatcherIsReplacedAndAnUnknownOneRemoved() {
    Settled s = settled(2);
    MaintainerHarness h = s.h();
    h.side.stop(s.where(), s.dispatcher()); // it failed on its own
    DispatcherKey stray = new DispatcherKey(7, 7);
    h.side.place(C, stray, TableSpans.wholeTable(2), ComponentState.COMPONENT_STATE_WORKING, 100);
    h.heartbeats();
    assertThat(h.maintainer.spans().get(T1).absent()).isTrue();
    h.settle();
    assertThat(h.side.liveFor(T1)).hasSize(1).doesNotContain(s.dispatcher());
    assertThat(h.side.liveFor(TableSpans.wholeTable(2))).hasSize(1).doesNotContain(stray);
  }

  @Test
  void aHeartbeatFromAnOlderOwnershipChangesNothing() {
    Settled s = settled(1);
    MaintainerHarness h = s.h();
    h.receive(s.where(), io.feedline.proto.DispatcherHeartbeat.newBuilder().setChangefeedId("cf1").setEpoch(MaintainerHarness.EPOCH - 1)
        .addStatuses(io.feedline.proto.SpanStatus.newBuilder().setId(s.dispatcher().proto()).setState(ComponentState.COMPONENT_STATE_STOPPED)).build());
    assertThat(h.maintainer.spans().get(T1).dispatcher()).isEqualTo(s.dispatcher());
    assertThat(h.maintainer.spans().get(T1).working()).isTrue();
    assertThat(h.rejections("stale_epoch")).isEqualTo(1);
  }

  @Test
  void selfHealingADispatcherMissingFromItsNodesHeartbeatIsReplaced() {
    Settled s = settled(1);
    MaintainerHarness h = s.h();
    h.side.node(s.where()).dispatchers.remove(s.dispatcher()); // gone, and its one Stopped report was s.dispatcher()
    h.heartbeats();
    assertThat(h.maintainer.spans().get(T1).absent()).isTrue();
    h.settle();
    assertThat(h.side.liveFor(T1)).hasSize(1);
  }

  @Test
  void aDispatcherLeftOutOfAPartialHeartbeatIsUnchangedNotVanished() {
    Settled s = settled(1);
    MaintainerHarness h = s.h();
    h.receive(s.where(), h.side.heartbeat(s.where(), "cf1").toBuilder().clearStatuses().setPartial(true).build());
    assertThat(h.maintainer.spans().get(T1).dispatcher()).isEqualTo(s.dispatcher());
    assertThat(h.maintainer.spans().get(T1).working()).isTrue();

    h.side.node(s.where()).dispatchers.remove(s.dispatcher()); // gone, and its one Stopped report was lost
    h.receive(s.where(), h.side.heartbeat(s.where(), "cf1").toBuilder().setPartial(true).build());
    assertThat(h.maintainer.spans().get(T1).working()).as("a partial heartbeat proves nothing about absence").isTrue();
    h.heartbeats(); // complete
    assertThat(h.maintainer.spans().get(T1).absent()).isTrue();
  }

  /**
   * A complete heartbeat sent before a dispatcher was created, duplicated or delayed by the network and
   * delivered after a newer one, must not make that dispatcher look vanished: the span would be placed a
   * second time (or, for a table dropped meanwhile, re-created beside a dispatcher still running). Found by
   * the simulation (seed 1: two Working dispatchers of one table under a duplicate-and-delay fault).
   */
  @Test
  void aLateCopyOfAnOlderCompleteHeartbeatProvesNothingAboutAbsence() {
    Settled s = settled(1);
    MaintainerHarness h = s.h();
    io.feedline.proto.DispatcherHeartbeat older = h.side.heartbeat(s.where(), "cf1").toBuilder().clearStatuses().setSeq(41).build();
    h.receive(s.where(), h.side.heartbeat(s.where(), "cf1").toBuilder().setSeq(42).build());
    h.receive(s.where(), older);
    assertThat(h.maintainer.spans().get(T1).dispatcher()).isEqualTo(s.dispatcher());
    assertThat(h.maintainer.spans().get(T1).working()).as("an older heartbeat proves nothing about absence").isTrue();
    h.receive(s.where(), older.toBuilder().setSeq(42).build());
    assertThat(h.maintainer.spans().get(T1).working()).as("nor does a duplicate").isTrue();

    h.receive(s.where(), older.toBuilder().setSeq(43).build());
    assertThat(h.maintainer.spans().get(T1).absent()).as("a newer complete heartbeat without it does").isTrue();
  }
}
