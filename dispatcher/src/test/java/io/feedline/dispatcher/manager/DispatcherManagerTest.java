package io.feedline.dispatcher.manager;

import static io.feedline.dispatcher.testing.Requests.bootstrap;
import static io.feedline.dispatcher.testing.Requests.create;
import static io.feedline.dispatcher.testing.Requests.createItem;
import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.merge;
import static io.feedline.dispatcher.testing.Requests.postBootstrap;
import static io.feedline.dispatcher.testing.Requests.remove;
import static io.feedline.dispatcher.testing.Requests.schedule;
import static io.feedline.dispatcher.testing.Requests.span;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.RunningErrorCodes;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.InflightOperator;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DispatcherManagerTest {

  private static final String CF = "cf1";
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");
  private static final DispatcherKey A = id(0xA);
  private static final DispatcherKey B = id(0xB);
  private static final DispatcherKey C = id(0xC);
  private static final DispatcherKey T1 = id(0x71);
  private static final DispatcherKey T2 = id(0x72);
  private static final DispatcherKey R1 = id(0x81);
  private static final DispatcherKey R2 = id(0x82);

  private DispatcherManager manager;
  private long now = 42;

  @BeforeEach
  void setUp() {
    manager = new DispatcherManager(ChangefeedId.of(CF), NodeId.of("self"), () -> now);
  }

  private static List<DispatcherKey> started(DispatcherManagerEffects e) {
    return e.commands().stream().filter(c -> c instanceof DispatcherManagerEffects.Start).map(c -> ((DispatcherManagerEffects.Start) c).spec().ref()).toList();
  }

  private static List<DispatcherKey> stopped(DispatcherManagerEffects e) {
    return e.commands().stream().filter(c -> c instanceof DispatcherManagerEffects.Stop).map(c -> ((DispatcherManagerEffects.Stop) c).ref()).toList();
  }

  private static MaintainerBootstrapResponse response(DispatcherManagerEffects e) {
    return (MaintainerBootstrapResponse) e.replies().get(0);
  }

  private static List<String> journal(List<InflightOperator> ops) {
    return ops.stream().map(o -> DispatcherKey.of(o.getId()) + "/" + (o.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE ? "create" : "remove")
        + "@" + o.getEpoch()).toList();
  }

  private static String j(DispatcherKey ref, String action, long epoch) {
    return ref + "/" + action + "@" + epoch;
  }

  private static Map<DispatcherKey, ComponentState> states(DispatcherHeartbeat hb) {
    return hb.getStatusesList().stream().collect(Collectors.toMap(s -> DispatcherKey.of(s.getId()), SpanStatus::getState));
  }

  private static List<String> reasons(DispatcherManagerEffects e) {
    return e.notices().stream().map(Notice::reason).toList();
  }

  @Test
  void aCreateIsJournaledBeforeItRunsAndLeavesTheJournalOnceWorking() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    DispatcherManagerEffects created = manager.schedule(create(CF, 5, A, table(1)));
    assertThat(started(created)).containsExactly(A);
    assertThat(created.statusChanged()).isTrue();
    assertThat(journal(manager.journal())).containsExactly(j(A, "create", 5));
    assertThat(manager.state(A)).isEqualTo(ComponentState.COMPONENT_STATE_INITIALIZING);

    assertThat(manager.dispatcherWorking(A).statusChanged()).isTrue();
    assertThat(manager.state(A)).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
    assertThat(manager.journal()).isEmpty();
  }

  /** A (table 1) and B (table 2) working, at epoch 5. */
  private void twoWorking() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 0), createItem(B, table(2), 0)));
    manager.dispatcherWorking(A);
    manager.dispatcherWorking(B);
  }

  @Test
  void aStalledSinkWriteAndAFailureSayWhatHoldsTheSpanInItsStatus() {
    twoWorking();
    manager.heartbeat();

    assertThat(manager.sinkStalls(Map.of(A, 1_796_000_000_000L))).isTrue();
    assertThat(manager.sinkStalls(Map.of(A, 1_796_000_000_000L))).as("unchanged: nothing new to report").isFalse();
    assertThat(manager.heartbeat().getStatusesList()).as("a partial heartbeat carries the change").singleElement().satisfies(st -> {
      assertThat(DispatcherKey.of(st.getId())).isEqualTo(A);
      assertThat(st.getHold()).isEqualTo(SpanHold.SPAN_HOLD_SINK);
      assertThat(st.getHoldDetail()).isEqualTo("a write has waited for the sink since 2026-11-30T00:53:20Z");
    });
    assertThat(manager.sinkStalls(Map.of())).as("the write completed").isTrue();
    assertThat(manager.heartbeat().getStatusesList()).singleElement().satisfies(st -> assertThat(st.getHold()).isEqualTo(SpanHold.SPAN_HOLD_NONE));

    manager.dispatcherFailed(B, new IllegalStateException("cannot reach postgresql://app:s3cret@127.0.0.1:5432/shop"),
        SpanHold.SPAN_HOLD_SINK);
    assertThat(manager.heartbeat().getStatusesList()).filteredOn(st -> DispatcherKey.of(st.getId()).equals(B)).singleElement().satisfies(st -> {
      assertThat(st.getState()).isEqualTo(ComponentState.COMPONENT_STATE_STOPPED);
      assertThat(st.getHold()).isEqualTo(SpanHold.SPAN_HOLD_SINK);
      assertThat(st.getHoldDetail()).as("in its own words, redacted").isEqualTo("cannot reach postgresql://app:***@127.0.0.1:5432/shop");
    });
  }

  @Test
  void aStopAskedForOrAClosedWritePathIsNoFailureEvenOfAStalledSpan() {
    twoWorking();
    manager.sinkStalls(Map.of(A, 1_796_000_000_000L, B, 1_796_000_000_000L));
    manager.heartbeat();

    manager.schedule(remove(CF, 5, A));
    manager.dispatcherStopped(A, null);
    manager.dispatcherFailed(B, new WritePathClosedException("postgresql sink: write path closed"), SpanHold.SPAN_HOLD_SINK);
    assertThat(manager.heartbeat().getStatusesList()).extracting(SpanStatus::getState, SpanStatus::getHold).containsExactlyInAnyOrder(
        tuple(ComponentState.COMPONENT_STATE_STOPPED, SpanHold.SPAN_HOLD_NONE), tuple(ComponentState.COMPONENT_STATE_STOPPED, SpanHold.SPAN_HOLD_NONE));
  }

  @Test
  void createAndRemoveAreIdempotentAndAStoppedIdIsNeverResurrected() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    assertThat(started(manager.schedule(create(CF, 5, A, table(1))))).containsExactly(A);
    assertThat(manager.schedule(create(CF, 5, A, table(1))).commands()).isEmpty();
    manager.dispatcherWorking(A);

    assertThat(stopped(manager.schedule(remove(CF, 5, A)))).containsExactly(A);
    assertThat(journal(manager.journal())).containsExactly(j(A, "remove", 5));
    assertThat(manager.schedule(remove(CF, 5, A)).commands()).isEmpty();
    assertThat(states(manager.heartbeat())).containsEntry(A, ComponentState.COMPONENT_STATE_WORKING);

    manager.dispatcherStopped(A, null);
    assertThat(manager.journal()).isEmpty();
    assertThat(states(manager.heartbeat())).containsExactly(Map.entry(A, ComponentState.COMPONENT_STATE_STOPPED));
    assertThat(manager.heartbeat().getStatusesList()).as("Stopped is reported once").isEmpty();

    // A delayed duplicate of the create, from the same owner: the id stopped here, so it stays stopped.
    DispatcherManagerEffects late = manager.schedule(create(CF, 5, A, table(1)));
    assertThat(late.commands()).isEmpty();
    assertThat(reasons(late)).containsExactly("create_after_stop");
    assertThat(states(manager.heartbeat())).containsExactly(Map.entry(A, ComponentState.COMPONENT_STATE_STOPPED));
  }

  @Test
  void aRemoveOfAnUnknownDispatcherIsNotJournaledButReportsStoppedSoTheMaintainerConverges() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    DispatcherManagerEffects e = manager.schedule(remove(CF, 5, C));
    assertThat(e.commands()).isEmpty();
    assertThat(e.statusChanged()).isTrue();
    assertThat(manager.journal()).isEmpty();
    assertThat(states(manager.heartbeat())).containsExactly(Map.entry(C, ComponentState.COMPONENT_STATE_STOPPED));
  }

  @Test
  void theBootstrapSnapshotFiltersTheJournalAsDesignSection6Says() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 0), createItem(B, table(2), 0)));
    manager.dispatcherWorking(B);
    manager.schedule(remove(CF, 5, B)); // B's stop is under way: it is still writing
    assertThat(journal(manager.journal())).containsExactlyInAnyOrder(j(A, "create", 5), j(B, "remove", 5));

    // Takeover by a new maintainer at epoch 6.
    MaintainerBootstrapResponse takeover = response(manager.bootstrap(N2, 6, bootstrap(CF, 6)));
    assertThat(takeover.getEpoch()).isEqualTo(6);
    assertThat(takeover.getDispatchersList()).extracting(d -> DispatcherKey.of(d.getId()), d -> d.getState()).containsExactly(
        tuple(A, ComponentState.COMPONENT_STATE_INITIALIZING),
        tuple(B, ComponentState.COMPONENT_STATE_WORKING));
    assertThat(journal(takeover.getOperatorsList()))
        .as("stale create dropped; stale remove kept because B is in the same snapshot")
        .containsExactly(j(B, "remove", 5));

    manager.schedule(create(CF, 6, C, table(3)));
    assertThat(journal(response(manager.bootstrap(N2, 6, bootstrap(CF, 6))).getOperatorsList()))
        .containsExactlyInAnyOrder(j(B, "remove", 5), j(C, "create", 6));

    manager.dispatcherStopped(B, null);
    MaintainerBootstrapResponse after = response(manager.bootstrap(N2, 6, bootstrap(CF, 6)));
    assertThat(after.getDispatchersList()).extracting(d -> DispatcherKey.of(d.getId())).containsExactly(A, C);
    assertThat(journal(after.getOperatorsList())).containsExactly(j(C, "create", 6));
  }

  @Test
  void aStaleRemoveIsReportedOnlyWithItsDispatcherInTheSameSnapshot() {
    InflightJournal journal = new InflightJournal();
    InflightOperator staleRemove = InflightOperator.newBuilder().setId(A.proto()).setAction(ScheduleAction.SCHEDULE_ACTION_REMOVE).setEpoch(4).build();
    InflightOperator staleCreate = InflightOperator.newBuilder().setId(B.proto()).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).setEpoch(4).build();
    InflightOperator currentRemove = InflightOperator.newBuilder().setId(C.proto()).setAction(ScheduleAction.SCHEDULE_ACTION_REMOVE).setEpoch(6).build();
    journal.put(A, staleRemove);
    journal.put(B, staleCreate);
    journal.put(C, currentRemove);
    assertThat(journal.reportable(6, Set.of(A, B, C))).containsExactly(staleRemove, currentRemove);
    assertThat(journal.reportable(6, Set.of(B, C))).containsExactly(currentRemove);
    assertThat(journal.reportable(6, Set.of())).containsExactly(currentRemove);
  }

  @Test
  void theJournalIsKeyedByIdAndEpoch() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(create(CF, 5, A, table(1)));
    manager.bootstrap(N2, 6, bootstrap(CF, 6));
    manager.schedule(remove(CF, 6, A)); // the new owner removes the old owner's half-created dispatcher
    assertThat(journal(manager.journal())).containsExactly(j(A, "create", 5), j(A, "remove", 6));
  }

  @Test
  void tableTriggerTakeoverReusesTheSameIdCreatesMissingOnesAndNeverReplacesAMismatch() {
    MaintainerBootstrapResponse first = response(manager.bootstrap(N1, 5, bootstrap(CF, 5, "blackhole://", T1, null)));
    assertThat(first.hasError()).isFalse();
    assertThat(manager.eventTrigger()).isEqualTo(T1);
    assertThat(first.getDispatchersList()).extracting(d -> DispatcherKey.of(d.getId())).containsExactly(T1);
    DispatcherManagerEffects post = manager.postBootstrap(postBootstrap(CF, 5, T1));
    assertThat(started(post)).containsExactly(T1);
    assertThat(((MaintainerPostBootstrapResponse) post.replies().get(0)).hasError()).isFalse();
    manager.dispatcherWorking(T1);

    // Same id from a newer owner: reused as is.
    DispatcherManagerEffects same = manager.bootstrap(N2, 6, bootstrap(CF, 6, "blackhole://", T1, null));
    assertThat(response(same).hasError()).isFalse();
    assertThat(same.commands()).isEmpty();
    assertThat(started(manager.postBootstrap(postBootstrap(CF, 6, T1)))).as("already running").isEmpty();

    // A missing redo trigger is created next to the existing event trigger.
    DispatcherManagerEffects redo = manager.bootstrap(N2, 6, bootstrap(CF, 6, "blackhole://", T1, R1));
    assertThat(response(redo).hasError()).isFalse();
    assertThat(manager.redoTrigger()).isEqualTo(R1);
    assertThat(started(manager.postBootstrap(postBootstrap(CF, 6, T1)))).containsExactly(R1);

    // A different event trigger id: an error reply, the existing trigger untouched.
    DispatcherManagerEffects mismatch = manager.bootstrap(N3, 7, bootstrap(CF, 7, "blackhole://", T2, R1));
    assertThat(response(mismatch).getError().getCode()).isEqualTo("trigger_mismatch");
    assertThat(response(mismatch).getEpoch()).isEqualTo(7);
    assertThat(response(mismatch).getDispatchersCount()).isZero();
    assertThat(mismatch.commands()).isEmpty();
    assertThat(manager.eventTrigger()).isEqualTo(T1);
    assertThat(manager.state(T1)).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
    assertThat(manager.dispatcherIds()).containsExactlyInAnyOrder(T1, R1);

    // A redo mismatch creates nothing either, not even a matching event trigger half.
    DispatcherManagerEffects redoMismatch = manager.bootstrap(N3, 8, bootstrap(CF, 8, "blackhole://", T1, R2));
    assertThat(response(redoMismatch).getError().getCode()).isEqualTo("trigger_mismatch");
    assertThat(manager.redoTrigger()).isEqualTo(R1);

    // Post-bootstrap naming another trigger: an error reply, nothing started.
    DispatcherManagerEffects wrongPost = manager.postBootstrap(postBootstrap(CF, 8, T2));
    assertThat(((MaintainerPostBootstrapResponse) wrongPost.replies().get(0)).getError().getCode()).isEqualTo("trigger_mismatch");
    assertThat(wrongPost.commands()).isEmpty();

    // A bootstrap without trigger ids (the maintainer lives elsewhere now) reports the trigger, creates none.
    MaintainerBootstrapResponse elsewhere = response(manager.bootstrap(N3, 9, bootstrap(CF, 9)));
    assertThat(elsewhere.hasError()).isFalse();
    assertThat(elsewhere.getDispatchersList()).extracting(d -> DispatcherKey.of(d.getId())).containsExactlyInAnyOrder(T1, R1);
  }

  @Test
  void aClosedWritePathIsAnInfoOutcomeNotAnErrorReply() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.stopWritePath();
    DispatcherManagerEffects boot = manager.bootstrap(N1, 5, bootstrap(CF, 5, "blackhole://", T1, null));
    assertThat(response(boot).hasError()).isFalse();
    assertThat(boot.notices()).singleElement().satisfies(n -> {
      assertThat(n.reason()).isEqualTo("write_path_closed");
      assertThat(n.level()).isEqualTo(Notice.Level.INFO);
    });
    assertThat(manager.eventTrigger()).isNull();
    DispatcherManagerEffects created = manager.schedule(create(CF, 5, A, table(1)));
    assertThat(created.commands()).isEmpty();
    assertThat(reasons(created)).containsExactly("write_path_closed");
    DispatcherManagerEffects failed = manager.dispatcherStopped(A, new WritePathClosedException("x"));
    assertThat(failed).isEqualTo(DispatcherManagerEffects.NONE);
  }

  @Test
  void malformedItemsAreSkippedWithAReasonAndTheRestOfTheBatchApplies() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    DispatcherManagerEffects e = manager.schedule(schedule(CF, 5,
        DispatcherSchedule.newBuilder().setSpan(table(1)).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).build(),
        DispatcherSchedule.newBuilder().setId(A.proto()).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).build(),
        DispatcherSchedule.newBuilder().setId(new DispatcherKey(0, 0).proto()).setSpan(table(1)).build(),
        DispatcherSchedule.newBuilder().setId(B.proto()).setSpan(table(1)).setActionValue(7).build(),
        createItem(C, table(3), 0)));
    assertThat(reasons(e)).containsExactly("missing_dispatcher_id", "missing_span", "missing_dispatcher_id", "unknown_action");
    assertThat(started(e)).containsExactly(C);
  }

  @Test
  void aCreateOverlappingALiveDispatcherIsRefusedUntilTheOtherIsGone() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(create(CF, 5, A, span(1, 0, 100)));
    manager.dispatcherWorking(A);
    DispatcherManagerEffects overlap = manager.schedule(create(CF, 5, B, span(1, 50, -1)));
    assertThat(overlap.commands()).isEmpty();
    assertThat(reasons(overlap)).containsExactly("span_overlap");
    assertThat(started(manager.schedule(create(CF, 5, C, span(1, 100, -1))))).as("adjacent is fine").containsExactly(C);
    manager.schedule(remove(CF, 5, A));
    assertThat(manager.schedule(create(CF, 5, B, span(1, 0, 100))).commands()).as("A still stopping").isEmpty();
    manager.dispatcherStopped(A, null);
    assertThat(started(manager.schedule(create(CF, 5, B, span(1, 0, 100))))).containsExactly(B);
  }

  @Test
  void mergeStartsTheMergedDispatcherOnlyAfterEverySourceStoppedFromTheLowestCheckpoint() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, span(1, 0, 100), 10), createItem(B, span(1, 100, -1), 10)));
    manager.dispatcherWorking(A);
    manager.dispatcherWorking(B);
    manager.dispatcherProgressed(A, 40, 40);
    manager.dispatcherProgressed(B, 60, 60);

    DispatcherManagerEffects merge = manager.merge(merge(CF, 5, C, B, A));
    assertThat(stopped(merge)).containsExactlyInAnyOrder(A, B);
    assertThat(started(merge)).isEmpty();
    assertThat(manager.state(C)).isEqualTo(ComponentState.COMPONENT_STATE_INITIALIZING);
    assertThat(journal(manager.journal())).containsExactlyInAnyOrder(j(A, "remove", 5), j(B, "remove", 5), j(C, "create", 5));

    manager.dispatcherProgressed(A, 45, 45);
    assertThat(started(manager.dispatcherStopped(A, null))).isEmpty();
    DispatcherManagerEffects last = manager.dispatcherStopped(B, null);
    assertThat(last.commands()).singleElement().satisfies(c -> {
      DispatcherManagerEffects.Start start = (DispatcherManagerEffects.Start) c;
      assertThat(start.spec().ref()).isEqualTo(C);
      assertThat(start.spec().span()).isEqualTo(span(1, 0, -1));
      assertThat(start.spec().startTs()).isEqualTo(45);
    });
    assertThat(reasons(manager.merge(merge(CF, 5, id(0xD), C))))
        .containsExactly("malformed_merge");
  }

  @Test
  void heartbeatsCarryTheWatermarkAndEachFailureOnce() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    DispatcherHeartbeat empty = manager.heartbeat();
    assertThat(empty.hasWatermark()).as("no dispatchers: no watermark to pull the checkpoint down").isFalse();
    assertThat(empty.getSeq()).as("numbered all the same, so a late copy is recognizable").isPositive();
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10), createItem(B, table(2), 10)));
    manager.dispatcherProgressed(A, 30, 35);
    manager.dispatcherProgressed(B, 20, 50);
    manager.dispatcherProgressed(B, 15, 15); // never backwards
    DispatcherHeartbeat hb = manager.heartbeat();
    assertThat(hb.getEpoch()).isEqualTo(5);
    assertThat(hb.getWatermark().getCheckpointTs()).isEqualTo(20);
    assertThat(hb.getWatermark().getResolvedTs()).isEqualTo(35);
    long seq = hb.getWatermark().getSeq();

    DispatcherManagerEffects failed = manager.dispatcherStopped(A, new IllegalStateException("disk full"));
    assertThat(reasons(failed)).containsExactly("dispatcher_failed");
    DispatcherHeartbeat next = manager.heartbeat();
    assertThat(next.getWatermark().getSeq()).isGreaterThan(seq);
    assertThat(next.getSeq()).isEqualTo(next.getWatermark().getSeq());
    assertThat(next.getErrorsList()).singleElement().satisfies(err -> {
      assertThat(err.getCode()).isEqualTo("dispatcher_failed");
      assertThat(err.getMessage()).contains("disk full");
      assertThat(err.getNodeId()).isEqualTo("self");
    });
    assertThat(manager.heartbeat().getErrorsCount()).isZero();
  }

  @Test
  void aSinkThatRefusesASchemaIsReportedAsASinkErrorInTheSinksOwnWords() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10)));
    DispatcherManagerEffects failed = manager.dispatcherStopped(A, new UnwritableSchemaException("table t1 has no primary key"));
    assertThat(reasons(failed)).containsExactly(RunningErrorCodes.SINK_ERROR);
    assertThat(manager.heartbeat().getErrorsList()).singleElement().satisfies(err -> {
      assertThat(err.getCode()).isEqualTo(RunningErrorCodes.SINK_ERROR);
      assertThat(err.getMessage()).isEqualTo("table t1 has no primary key");
    });
  }

  @Test
  void aCreateIsCheckedForOverlapsOnlyAgainstItsOwnTablesDispatchers() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(create(CF, 5, A, span(1, 0, 100)));
    assertThat(started(manager.schedule(create(CF, 5, B, span(2, 0, 100))))).as("same keys, another table").containsExactly(B);
    DispatcherManagerEffects overlap = manager.schedule(create(CF, 5, C, span(2, 50, -1)));
    assertThat(reasons(overlap)).containsExactly("span_overlap");
    manager.dispatcherStopped(B, null);
    assertThat(started(manager.schedule(create(CF, 5, C, span(2, 50, -1))))).as("the table's only dispatcher is gone").containsExactly(C);
  }

  @Test
  void heartbeatsBetweenCompleteOnesCarryOnlyTheStatusesThatChanged() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10), createItem(B, table(2), 10)));
    DispatcherHeartbeat first = manager.heartbeat();
    assertThat(first.getPartial()).as("the first heartbeat to a new owner is complete").isFalse();
    assertThat(states(first)).containsOnlyKeys(A, B);

    DispatcherHeartbeat unchanged = manager.heartbeat();
    assertThat(unchanged.getPartial()).isTrue();
    assertThat(unchanged.getStatusesList()).isEmpty();
    assertThat(unchanged.getWatermark().getCheckpointTs()).as("the watermark still covers every dispatcher").isEqualTo(10);

    manager.dispatcherWorking(A);
    manager.dispatcherProgressed(B, 20, 20);
    DispatcherHeartbeat changed = manager.heartbeat();
    assertThat(changed.getStatusesList()).extracting(s -> DispatcherKey.of(s.getId()), SpanStatus::getState, SpanStatus::getCheckpointTs)
        .containsExactly(tuple(A, ComponentState.COMPONENT_STATE_WORKING, 10L), tuple(B, ComponentState.COMPONENT_STATE_INITIALIZING, 20L));

    // However many heartbeats go out meanwhile (a drain sends them many times a second), the next complete one waits its time.
    for (int i = 0; i < 100; i++) {
      assertThat(manager.heartbeat().getStatusesList()).as("heartbeat %d", i + 4).isEmpty();
    }
    now += DispatcherManager.COMPLETE_HEARTBEAT_MILLIS - 1;
    assertThat(manager.heartbeat().getPartial()).isTrue();
    now += 1;
    DispatcherHeartbeat complete = manager.heartbeat();
    assertThat(complete.getPartial()).isFalse();
    assertThat(states(complete)).containsOnlyKeys(A, B);
    now -= 60_000; // the wall clock steps back a minute: the next complete one still comes within its interval, not in 65 s
    assertThat(manager.heartbeat().getPartial()).isFalse();
    assertThat(manager.heartbeat().getPartial()).isTrue();

    manager.heartbeat();
    manager.bootstrap(N2, 6, bootstrap(CF, 6));
    assertThat(states(manager.heartbeat())).as("a new owner hears everything at once").containsOnlyKeys(A, B);
  }

  /** An owner whose bootstrap does not say it reads partial heartbeats (an older maintainer) gets only complete ones. */
  @Test
  void anOwnerThatDoesNotReadPartialHeartbeatsGetsOnlyCompleteOnes() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5).toBuilder().setAcceptsPartialHeartbeats(false).build());
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10), createItem(B, table(2), 10)));
    for (int i = 0; i < 30; i++) {
      now += 200;
      DispatcherHeartbeat hb = manager.heartbeat();
      assertThat(hb.getPartial()).as("heartbeat %d", i + 1).isFalse();
      assertThat(states(hb)).as("heartbeat %d", i + 1).containsOnlyKeys(A, B);
    }
  }

  /** The owner asks for a complete heartbeat (it set earlier ones aside before its rebuild): the next one is. */
  @Test
  void aHeartbeatResponseAskingForACompleteHeartbeatGetsOneNext() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10), createItem(B, table(2), 10)));
    manager.heartbeat();
    assertThat(manager.heartbeat().getStatusesList()).as("partial, nothing changed").isEmpty();

    manager.heartbeatResponse(HeartbeatResponse.newBuilder().setChangefeedId(CF).setEpoch(5).setSendComplete(true).build());
    DispatcherHeartbeat asked = manager.heartbeat();
    assertThat(asked.getPartial()).isFalse();
    assertThat(states(asked)).containsOnlyKeys(A, B);
    assertThat(manager.heartbeat().getPartial()).as("then partial again").isTrue();
  }

  @Test
  void theWorkingWriterCountFollowsWorkingAndStoppedWithoutRedo() {
    manager.bootstrap(N1, 5, bootstrap(CF, 5));
    manager.schedule(schedule(CF, 5, createItem(A, table(1), 10), createItem(B, table(2), 10),
        createItem(C, table(1), 10).toBuilder().setRedo(true).build()));
    assertThat(manager.workingWriterCount()).isZero();
    manager.dispatcherWorking(A);
    manager.dispatcherWorking(A);
    manager.dispatcherWorking(B);
    manager.dispatcherWorking(C);
    assertThat(manager.workingWriterCount()).as("A and B; C is redo").isEqualTo(2);
    manager.schedule(remove(CF, 5, A));
    manager.dispatcherStopped(A, null);
    assertThat(manager.workingWriterCount()).isEqualTo(1);
    assertThat(manager.workingWriterCount()).isEqualTo(manager.dispatcherSnapshots().stream()
        .filter(d -> !d.getRedo() && d.getState() == ComponentState.COMPONENT_STATE_WORKING).count());
  }
}
