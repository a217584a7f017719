package io.feedline.maintainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanController;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ComponentState;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableSpan;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CheckpointBlockersTest {

  private static final NodeId B = NodeId.of("b");
  private final SpanController spans = new SpanController();

  /** Table {@code t} on node b, working at {@code checkpointTs}. */
  private SpanReplication working(long t, long checkpointTs) {
    TableSpan span = TableSpans.wholeTable(t);
    spans.addAbsent(span, 1, checkpointTs);
    spans.assign(span, dispatcher(t), B, true);
    SpanReplication r = spans.get(span);
    spans.observe(r, status(t, ComponentState.COMPONENT_STATE_WORKING, checkpointTs).build());
    return r;
  }

  private static DispatcherKey dispatcher(long t) {
    return new DispatcherKey(1, t);
  }

  private static SpanStatus.Builder status(long t, ComponentState state, long checkpointTs) {
    return SpanStatus.newBuilder().setId(dispatcher(t).proto()).setState(state).setCheckpointTs(checkpointTs);
  }

  private List<CheckpointBlocker> blockers(Set<Long> movingTables, int limit) {
    return CheckpointBlockers.of(spans.all(), s -> movingTables.contains(s.getTableId()), t -> t == 1 ? "public.orders" : null, limit);
  }

  @Test
  void theSlowestSpansFirstEachWithTheFirstReasonThatApplies() {
    for (long t = 1; t <= 8; t++) {
      working(t, 1_000 + t);
    }
    SpanReplication sinkHeld = spans.get(TableSpans.wholeTable(4));
    spans.observe(sinkHeld, status(4, ComponentState.COMPONENT_STATE_WORKING, 1_004).setHold(SpanHold.SPAN_HOLD_SINK)
        .setHoldDetail("a write has waited for the sink since 2026-12-06T21:00:00Z").build());
    SpanReplication atDdl = spans.get(TableSpans.wholeTable(2));
    spans.observe(atDdl, status(2, ComponentState.COMPONENT_STATE_WORKING, 1_002)
        .setBlockState(BlockState.newBuilder().setBlocked(true).setBlockTs(1_003).setStage(BlockStage.BLOCK_STAGE_WAITING)).build());
    spans.markAbsent(TableSpans.wholeTable(5), 1_005);

    List<CheckpointBlocker> found = blockers(Set.of(3L), 5);

    assertThat(found).extracting(b -> b.getSpan().getTableId()).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(found).extracting(CheckpointBlocker::getReason)
        .containsExactly("source-behind", "ddl-barrier", "moving", "sink-error", "absent");
    assertThat(found.get(0).getTable()).isEqualTo("public.orders");
    assertThat(found.get(1).getTable()).as("a table the maintainer has no name for").isEmpty();
    assertThat(found.get(3).getDetail()).isEqualTo("a write has waited for the sink since 2026-12-06T21:00:00Z");
    assertThat(found.get(3).getNode()).isEqualTo("b");
    assertThat(found.get(3).getDispatcherState()).isEqualTo("WORKING");
    assertThat(found.get(4).getNode()).as("absent: no node").isEmpty();
    assertThat(found.get(4).getDispatcherState()).isEmpty();
    assertThat(found).extracting(CheckpointBlocker::getCheckpointTs).containsExactly(1_001L, 1_002L, 1_003L, 1_004L, 1_005L);
  }

  @Test
  void aFailureHoldsItsSpanThroughReplacementUntilTheSpanMovesOn() {
    working(1, 500);
    working(2, 900);
    SpanReplication r = spans.get(TableSpans.wholeTable(1));
    // As the maintainer does: the Stopped status unbinds the span first, then says why.
    spans.markAbsent(r.span(), 500);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_STOPPED, 500).setHold(SpanHold.SPAN_HOLD_SINK)
        .setHoldDetail("connection to 127.0.0.1:5432 refused").build());
    assertThat(blockers(Set.of(), 1)).singleElement().satisfies(b -> {
      assertThat(b.getReason()).isEqualTo("sink-error");
      assertThat(b.getDetail()).isEqualTo("connection to 127.0.0.1:5432 refused");
    });

    // A new dispatcher takes the span over and works, but has not written anything yet: the sink still holds it.
    spans.assign(r.span(), new DispatcherKey(2, 1), B, true);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_WORKING, 500).setId(new DispatcherKey(2, 1).proto()).build());
    assertThat(blockers(Set.of(), 1).get(0).getReason()).isEqualTo("sink-error");

    spans.advance(r, 600);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_WORKING, 600).build());
    assertThat(blockers(Set.of(), 1).get(0).getReason()).as("written past where it failed").isEqualTo("source-behind");
  }

  @Test
  void aStopAskedForLeavesNothingBehindAndANewDispatcherStartsFromNoState() {
    SpanReplication r = working(1, 500);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_WORKING, 500)
        .setBlockState(BlockState.newBuilder().setBlocked(true).setBlockTs(501).setStage(BlockStage.BLOCK_STAGE_WAITING)).build());
    spans.markAbsent(r.span(), 500);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_STOPPED, 500).build());
    spans.assign(r.span(), new DispatcherKey(2, 1), B, false);
    assertThat(blockers(Set.of(), 1)).singleElement().satisfies(b -> {
      assertThat(b.getReason()).as("the old dispatcher's DDL block is not the new one's").isEqualTo("source-behind");
      assertThat(b.getDispatcherState()).as("the new one has not reported yet").isEmpty();
    });
  }

  @Test
  void aStalledWriteHoldsOnlyWhileReported() {
    SpanReplication r = working(1, 500);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_WORKING, 500).setHold(SpanHold.SPAN_HOLD_SINK).setHoldDetail("waiting").build());
    assertThat(blockers(Set.of(), 1).get(0).getReason()).isEqualTo("sink-error");
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_WORKING, 500).build());
    assertThat(blockers(Set.of(), 1).get(0).getReason()).isEqualTo("source-behind");
  }

  @Test
  void aSourceFailureIsTheSourceBehindInItsOwnWords() {
    SpanReplication r = working(1, 500);
    spans.markAbsent(r.span(), 500);
    spans.observe(r, status(1, ComponentState.COMPONENT_STATE_STOPPED, 500).setHold(SpanHold.SPAN_HOLD_SOURCE)
        .setHoldDetail("replication slot is gone").build());
    assertThat(blockers(Set.of(1L), 1)).singleElement().satisfies(b -> {
      assertThat(b.getReason()).as("the failure says more than the operator re-placing it").isEqualTo("source-behind");
      assertThat(b.getDetail()).isEqualTo("replication slot is gone");
    });
  }
}
