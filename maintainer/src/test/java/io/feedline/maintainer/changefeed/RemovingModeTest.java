package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.A;
import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static io.feedline.maintainer.changefeed.MaintainerHarness.C;
import static io.feedline.maintainer.changefeed.MaintainerHarness.EPOCH;
import static io.feedline.maintainer.changefeed.MaintainerHarness.RESEND;
import static io.feedline.maintainer.changefeed.MaintainerHarness.TICK;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Remove handoff quiesce (DESIGN §8): once removing, the maintainer leaves every decision about the
 * dispatchers to the next owner. Each test sets up the situation in which one legacy action would
 * happen, begins removing, and checks it does not; the trigger close and the checkpoint keep going.
 */
class RemovingModeTest {

  private static final TableSpan T1 = TableSpans.wholeTable(1);
  private static final TableSpan T2 = TableSpans.wholeTable(2);
  private static final ComponentState WORKING = ComponentState.COMPONENT_STATE_WORKING;
  private static final ComponentState INITIALIZING = ComponentState.COMPONENT_STATE_INITIALIZING;

  /** Tables 1..n placed on A, B, C and working, nothing in flight. */
  private static MaintainerHarness running(int tables) {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    LongStream.rangeClosed(1, tables).forEach(h.side.tables::add);
    h.settle();
    return h;
  }

  /** Ticks (without delivering anything) until the maintainer is working: bootstrap, trigger, post-bootstrap. */
  private static void untilWorking(MaintainerHarness h) {
    for (int i = 0; i < 6 && !h.maintainer.working(); i++) {
      h.deliver(h.tickOnly());
    }
    assertThat(h.maintainer.working()).isTrue();
  }

  /** Full rounds (tick, delivery, heartbeats) covering {@code millis}: several resend intervals. */
  private static void rounds(MaintainerHarness h, long millis) {
    for (long t = 0; t < millis; t += TICK) {
      h.round();
    }
  }

  /** Ticks only, nothing delivered and no heartbeats, covering {@code millis}. */
  private static void ticks(MaintainerHarness h, long millis) {
    for (long t = 0; t < millis; t += TICK) {
      h.tickOnly();
    }
  }

  /** Removing without cascade; the sent log starts empty there. */
  private static void removing(MaintainerHarness h) {
    h.beginRemoving(false, false);
    h.sent.clear();
  }

  private static List<DispatcherSchedule> scheduleItems(List<Outbound> sent) {
    return sent.stream().filter(o -> o.payload() instanceof ScheduleDispatcherRequest)
        .flatMap(o -> ((ScheduleDispatcherRequest) o.payload()).getItemsList().stream()).toList();
  }

  private static double ignored(MaintainerHarness h, String type) {
    return h.metrics.find("feedline.maintainer.ignored_while_removing").tag("type", type).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  private static NodeId otherThan(MaintainerHarness h, NodeId node) {
    return h.live.stream().filter(n -> !n.equals(node)).findFirst().orElseThrow();
  }

  // ---- self-healing ----

  @Test
  void aStoppedDispatcherDoesNotMakeItsSpanAbsent() {
    MaintainerHarness h = running(3);
    SpanReplication r = h.maintainer.spans().get(T1);
    NodeId node = r.node();
    DispatcherKey dispatcher = r.dispatcher();
    removing(h);

    h.side.stop(node, dispatcher); // reported Stopped in the next heartbeat
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().absent()).isEmpty();
    assertThat(h.maintainer.spans().get(T1).dispatcher()).isEqualTo(dispatcher);
    assertThat(h.maintainer.spans().get(T1).node()).isEqualTo(node);
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void aVanishedDispatcherDoesNotMakeItsSpanAbsent() {
    MaintainerHarness h = running(3);
    SpanReplication r = h.maintainer.spans().get(T1);
    DispatcherKey dispatcher = r.dispatcher();
    removing(h);

    h.side.node(r.node()).dispatchers.remove(dispatcher); // gone without a Stopped report
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().absent()).isEmpty();
    assertThat(h.maintainer.spans().get(T1).dispatcher()).isEqualTo(dispatcher);
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void aStrayDispatcherIsNotRemoved() {
    MaintainerHarness h = running(2);
    DispatcherKey stray = new DispatcherKey(99, 99);
    removing(h);

    h.side.place(B, stray, TableSpans.wholeTable(7), WORKING, 100); // nobody asked for it
    rounds(h, 4 * RESEND);

    assertThat(h.side.node(B).dispatchers).containsKey(stray);
    assertThat(h.maintainer.operators().describe()).isEmpty();
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void aStoppedTableTriggerIsNotLearnedAgainNorRecreated() {
    MaintainerHarness h = running(2);
    DispatcherKey trigger = h.maintainer.trigger();
    removing(h);

    h.side.stop(A, trigger); // reported Stopped once, then missing from every heartbeat
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.trigger()).isEqualTo(trigger);
    assertThat(h.maintainer.triggerStage()).isEqualTo(ChangefeedMaintainer.TriggerStage.READY);
    assertThat(h.sentOf(MaintainerBootstrapRequest.class)).isEmpty();
  }

  // ---- node changes ----

  @Test
  void aNodeThatLeavesLeavesItsSpansBound() {
    MaintainerHarness h = running(6);
    List<TableSpan> onB = List.copyOf(h.maintainer.spans().on(B));
    assertThat(onB).isNotEmpty();
    removing(h);

    h.crash(B);
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().on(B)).containsExactlyInAnyOrderElementsOf(onB);
    assertThat(h.maintainer.spans().absent()).isEmpty();
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void aNodeThatJoinsIsNotBootstrapped() {
    MaintainerHarness h = running(2);
    NodeId d = NodeId.of("d");
    removing(h);

    h.side.nodes.put(d, new FakeDispatcherSide.Node());
    h.live.add(d);
    rounds(h, 4 * RESEND);

    assertThat(h.sentTo(d, MaintainerBootstrapRequest.class)).isEmpty();
    assertThat(h.sent).noneMatch(o -> o.to().equals(d));
  }

  // ---- block statuses and the barrier ----

  /** A DDL at 400 blocking the trigger and table 2, every dispatcher past it. */
  private static MaintainerHarness blockedOnADdl() {
    MaintainerHarness h = running(3);
    h.side.ddls.add(new FakeDispatcherSide.Ddl(400, List.of(0L, 2L), List.of(), List.of()));
    h.side.advanceAll(500);
    return h;
  }

  @Test
  void blockStatusRequestsAreIgnoredAndCounted() {
    MaintainerHarness h = blockedOnADdl();
    removing(h);

    for (NodeId n : List.copyOf(h.live)) {
      h.receive(n, h.side.blockStatuses(n));
    }
    ticks(h, 4 * RESEND);

    assertThat(h.maintainer.barrier().pending()).isZero();
    assertThat(h.sentOf(HeartbeatResponse.class)).isEmpty();
    assertThat(ignored(h, "BlockStatusRequest")).isEqualTo(3);
  }

  @Test
  void blockStatesInHeartbeatsAreNotAnswered() {
    MaintainerHarness h = blockedOnADdl();
    removing(h);

    rounds(h, 4 * RESEND); // every heartbeat carries the blocked states

    assertThat(h.maintainer.barrier().pending()).isZero();
    assertThat(h.sentOf(HeartbeatResponse.class)).isEmpty();
  }

  @Test
  void aBarrierActionIsNotResent() {
    MaintainerHarness h = blockedOnADdl();
    for (NodeId n : List.copyOf(h.live)) {
      h.receive(n, h.side.blockStatuses(n));
    }
    List<Outbound> write = h.tickOnly(); // the trigger is told to write; the message is lost
    assertThat(write).anyMatch(o -> o.to().equals(A) && o.payload() instanceof HeartbeatResponse);
    removing(h);

    ticks(h, 4 * RESEND);

    assertThat(h.maintainer.barrier().pending()).isEqualTo(1);
    assertThat(h.sentOf(HeartbeatResponse.class)).isEmpty();
  }

  // ---- bootstrap ----

  @Test
  void anUnansweredBootstrapIsNotResentAndALateAnswerIsIgnored() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    FakeDispatcherSide.Node silent = h.side.nodes.remove(C); // C is live but does not answer
    ticks(h, 2 * RESEND);
    assertThat(h.sentTo(C, MaintainerBootstrapRequest.class)).hasSizeGreaterThan(1);
    removing(h);

    ticks(h, 4 * RESEND);
    assertThat(h.sentOf(MaintainerBootstrapRequest.class)).isEmpty();
    assertThat(h.sentOf(MaintainerPostBootstrapRequest.class)).isEmpty();

    h.side.nodes.put(C, silent);
    h.receive(C, h.side.snapshot(C).setEpoch(EPOCH).build());
    ticks(h, 4 * RESEND);
    assertThat(ignored(h, "MaintainerBootstrapResponse")).isEqualTo(1);
    assertThat(h.sent).isEmpty();
    assertThat(h.maintainer.working()).isFalse();
  }

  // ---- scheduling ----

  @Test
  void absentSpansAreNotScheduled() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    LongStream.rangeClosed(1, 3).forEach(h.side.tables::add);
    untilWorking(h);
    assertThat(h.maintainer.spans().absent()).hasSize(3); // the next tick would place them
    removing(h);

    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().absent()).hasSize(3);
    assertThat(h.maintainer.operators().size()).isZero();
    assertThat(scheduleItems(h.sent)).isEmpty();
    assertThat(h.side.liveCount()).as("only the trigger").isEqualTo(1);
  }

  @Test
  void unevenSpansAreNotBalanced() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    for (long t = 1; t <= 6; t++) {
      h.side.tables.add(t);
      h.side.place(A, new DispatcherKey(5, t), TableSpans.wholeTable(t), WORKING, 100);
    }
    untilWorking(h);
    assertThat(h.maintainer.spans().on(A)).hasSize(6);
    removing(h);

    h.now = 100_000; // long past the balance interval
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().on(A)).hasSize(6);
    assertThat(h.maintainer.operators().size()).isZero();
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void nothingMovesOffTheDrainTarget() {
    MaintainerHarness h = running(6);
    int onC = h.maintainer.spans().on(C).size();
    assertThat(onC).isPositive();
    removing(h);

    h.maintainer.drainTarget(DrainTarget.newBuilder().setTargetNode(C.value()).setTargetEpoch(42).build());
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.spans().on(C)).hasSize(onC);
    assertThat(h.maintainer.status().getDrainProgress().getDrainMovesInFlight()).isZero();
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void anAdminMoveIsRefused() {
    MaintainerHarness h = running(2);
    NodeId from = h.maintainer.spans().get(T1).node();
    removing(h);

    assertThat(h.maintainer.move(T1, otherThan(h, from))).isFalse();
    rounds(h, 2 * RESEND);

    assertThat(h.maintainer.spans().get(T1).node()).isEqualTo(from);
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  // ---- the operator controller ----

  /** T1 is being moved off its node; the origin's remove was lost. */
  private static MaintainerHarness moving(MaintainerHarness h) {
    NodeId from = h.maintainer.spans().get(T1).node();
    h.side.answerSchedules = false;
    assertThat(h.maintainer.move(T1, otherThan(h, from))).isTrue();
    assertThat(scheduleItems(h.tickOnly())).singleElement()
        .satisfies(i -> assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_REMOVE));
    return h;
  }

  @Test
  void aFrozenOperatorIsNotResentAndStaysInTheController() {
    MaintainerHarness h = moving(running(2));
    NodeId from = h.maintainer.spans().get(T1).node();
    List<String> before = h.maintainer.operators().describe();
    removing(h);
    h.side.answerSchedules = true;

    rounds(h, 4 * RESEND);

    assertThat(scheduleItems(h.sent)).isEmpty();
    assertThat(h.maintainer.operators().describe()).isEqualTo(before);
    assertThat(h.side.liveFor(T1)).hasSize(1);
    assertThat(h.maintainer.spans().get(T1).node()).isEqualTo(from);
  }

  @Test
  void aFrozenOperatorDoesNotStepOnTheStatusesItWatches() {
    MaintainerHarness h = moving(running(2));
    SpanReplication r = h.maintainer.spans().get(T1);
    List<String> before = h.maintainer.operators().describe();
    removing(h);

    h.side.stop(r.node(), r.dispatcher()); // the lost remove arrived after all: the origin reports Stopped
    rounds(h, 4 * RESEND);

    assertThat(h.maintainer.operators().describe()).as("still stopping the origin, not creating").isEqualTo(before);
    assertThat(h.maintainer.spans().absent()).isEmpty();
    assertThat(scheduleItems(h.sent)).isEmpty();
  }

  @Test
  void anOlderTableTriggerIsStillClosedWhileEverythingElseIsFrozen() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    h.side.tables.add(1L);
    DispatcherKey kept = new DispatcherKey(1, 1);
    DispatcherKey older = new DispatcherKey(1, 2);
    DispatcherKey t1 = new DispatcherKey(1, 3);
    h.side.place(A, kept, TableSpan.getDefaultInstance(), WORKING, 150);
    h.side.node(A).trigger = kept;
    h.side.place(A, older, TableSpan.getDefaultInstance(), WORKING, 140);
    h.side.place(B, t1, T1, INITIALIZING, 120);
    h.side.answerSchedules = false; // the first sends of the rebuilt operators are lost
    untilWorking(h);
    assertThat(h.maintainer.trigger()).isEqualTo(kept);
    assertThat(h.maintainer.operators().size()).as("the restored add of T1").isEqualTo(1);
    assertThat(h.maintainer.operators().describe()).anyMatch(d -> d.contains(older.toString()));
    List<String> frozen = h.maintainer.operators().describe().stream().filter(d -> !d.contains(older.toString())).toList();
    removing(h);
    h.side.answerSchedules = true;

    rounds(h, 2 * RESEND);

    assertThat(scheduleItems(h.sent)).as("only the older trigger's remove is resent").singleElement().satisfies(i -> {
      assertThat(DispatcherKey.of(i.getId())).isEqualTo(older);
      assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_REMOVE);
    });
    assertThat(h.sentTo(A, ScheduleDispatcherRequest.class)).hasSize(1);
    assertThat(h.side.node(A).dispatchers).doesNotContainKey(older).containsKey(kept);
    assertThat(h.maintainer.operators().describe()).as("the trigger close completed; the add is frozen").isEqualTo(frozen);
    assertThat(h.side.node(B).dispatchers.get(t1).state).isEqualTo(INITIALIZING);
  }

  // ---- the checkpoint ----

  @Test
  void heartbeatsStillMoveTheCheckpointButAFrozenMoveHoldsItAtItsStart() {
    MaintainerHarness h = running(2);
    h.side.advanceAll(200);
    h.side.nodes.values().forEach(n -> n.dispatchers.values().stream().filter(d -> d.span.equals(T1)).forEach(d -> d.checkpointTs = 300));
    h.round();
    h.round();
    assertThat(h.maintainer.status().getCheckpointTs()).isEqualTo(200);
    moving(h); // T1 from its checkpoint 300
    h.side.answerCloses = false;
    h.beginRemoving(true, false); // a pause: the checkpoint it ends with is where the changefeed resumes
    h.side.answerSchedules = true;

    List<Long> reported = new ArrayList<>();
    for (long ts = 400; ts <= 900; ts += 100) {
      h.side.startAll();
      h.side.advanceAll(ts); // T2, the trigger and T1's origin dispatcher all reach ts
      h.round(); // the tick counts the heartbeats of the round before
      reported.add(h.maintainer.status().getCheckpointTs());
    }

    assertThat(reported).containsExactly(200L, 300L, 300L, 300L, 300L, 300L);
    assertThat(h.maintainer.spans().get(T2).checkpointTs()).isEqualTo(900);
    assertThat(h.maintainer.removalDone()).isFalse();
  }

  // ---- the close path ----

  private static List<Outbound> closeRequests(List<Outbound> sent) {
    return sent.stream().filter(o -> o.payload() instanceof MaintainerCloseRequest).toList();
  }

  private static MaintainerCloseResponse closed(long epoch) {
    return MaintainerCloseResponse.newBuilder().setChangefeedId("cf1").setSuccess(true).setEpoch(epoch).build();
  }

  @Test
  void aCascadingRemovalClosesEveryNodeAskingAgainUntilEachAnswersOrLeaves() {
    MaintainerHarness h = running(2);
    h.side.answerCloses = false;

    List<Outbound> first = h.beginRemoving(true, true);

    assertThat(first).extracting(Outbound::to).containsExactlyInAnyOrder(A, B, C);
    assertThat(first).allSatisfy(o -> assertThat(o.payload()).isEqualTo(
        MaintainerCloseRequest.newBuilder().setChangefeedId("cf1").setRemoved(true).setEpoch(EPOCH).build()));
    assertThat(h.maintainer.removalDone()).isFalse();
    h.sent.clear();
    ticks(h, RESEND - TICK);
    assertThat(closeRequests(h.sent)).isEmpty();
    h.tickOnly();
    assertThat(closeRequests(h.sent)).extracting(Outbound::to).containsExactlyInAnyOrder(A, B, C);

    h.receive(A, closed(EPOCH));
    h.receive(B, closed(EPOCH - 1)); // an answer to an older close says nothing about this one
    assertThat(h.rejections("stale_epoch")).as("and is counted like every fenced reply").isEqualTo(1);
    h.receive(B, MaintainerCloseResponse.newBuilder().setChangefeedId("cf1").setSuccess(false).setEpoch(EPOCH).build());
    h.sent.clear();
    ticks(h, RESEND);
    assertThat(closeRequests(h.sent)).extracting(Outbound::to).containsExactlyInAnyOrder(B, C);

    h.receive(B, closed(EPOCH));
    h.crash(C); // a node that left hosts nothing any more
    assertThat(h.maintainer.removalDone()).isFalse();
    h.sent.clear();
    ticks(h, RESEND);
    assertThat(h.maintainer.removalDone()).isTrue();
    assertThat(closeRequests(h.sent)).isEmpty();
    ticks(h, 2 * RESEND);
    assertThat(h.sent).isEmpty();
  }

  @Test
  void aCascadingRemovalIsDoneOnceEveryNodeClosed() {
    MaintainerHarness h = running(2);

    h.beginRemoving(true, false); // the fake side answers at once

    assertThat(h.maintainer.removalDone()).isTrue();
    assertThat(h.side.liveCount()).isZero();
    assertThat(closeRequests(h.sent)).hasSize(3)
        .allSatisfy(o -> assertThat(((MaintainerCloseRequest) o.payload()).getRemoved()).isFalse());
  }

  @Test
  void aRemovalWithoutCascadeSendsNoCloseAndIsDoneAtOnce() {
    MaintainerHarness h = running(2);

    assertThat(h.beginRemoving(false, true)).isEmpty();

    assertThat(h.maintainer.removalDone()).isTrue();
    rounds(h, 4 * RESEND);
    assertThat(closeRequests(h.sent)).isEmpty();
    assertThat(h.side.liveCount()).as("the dispatchers stay for the next owner").isEqualTo(3);
  }

  @Test
  void beginningAgainChangesNothing() {
    MaintainerHarness h = running(2);
    h.side.answerCloses = false;
    h.beginRemoving(true, true);
    h.sent.clear();

    assertThat(h.beginRemoving(true, true)).isEmpty();
    assertThat(h.beginRemoving(false, false)).isEmpty();

    assertThat(h.maintainer.removalDone()).as("still closing, as the first call asked").isFalse();
    ticks(h, RESEND);
    assertThat(closeRequests(h.sent)).hasSize(3);
  }

  @Test
  void aCloseResponseBeforeAnyRemovalIsIgnored() {
    MaintainerHarness h = running(2);
    h.receive(A, closed(EPOCH));
    assertThat(h.maintainer.removing()).isFalse();
    assertThat(h.maintainer.removalDone()).isFalse();
  }
}
