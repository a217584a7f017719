package io.feedline.maintainer.checkpoint;

import io.feedline.common.span.BlockerReason;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ComponentState;
import io.feedline.proto.SpanHold;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * The spans holding a changefeed's checkpoint back, and why: the few with the lowest checkpoints, each
 * with the first reason that applies, in this order —
 * <ol>
 *   <li>{@code ddl-barrier}: its dispatcher is blocked at a DDL (the barrier has not let it pass yet);</li>
 *   <li>{@code sink-error}: its sink has had a write outstanding for long, or a dispatcher of it failed
 *       writing (and it has not moved since);</li>
 *   <li>{@code source-behind} with the source's words: a dispatcher of it failed reading;</li>
 *   <li>{@code moving}: an operator is placing, moving or removing it;</li>
 *   <li>{@code absent}: no dispatcher replicates it;</li>
 *   <li>{@code source-behind}: its dispatcher has written all its source has resolved (the usual state
 *       of a healthy changefeed's slowest span: what holds it is how far the source has got).</li>
 * </ol>
 * ({@link BlockerReason}). Pure: one walk over the spans, keeping the lowest {@code limit}.
 */
public final class CheckpointBlockers {

  private static final Comparator<SpanReplication> LOWEST_FIRST = Comparator.<SpanReplication>comparingLong(SpanReplication::checkpointTs)
      .thenComparingLong(r -> r.span().getTableId());

  private CheckpointBlockers() {}

  /**
   * @param moving whether an operator holds the span
   * @param tableName the table's name as the source spells it, or null when unknown
   */
  public static List<CheckpointBlocker> of(Collection<SpanReplication> spans, Predicate<TableSpan> moving, LongFunction<String> tableName,
      int limit) {
    PriorityQueue<SpanReplication> lowest = new PriorityQueue<>(limit + 1, LOWEST_FIRST.reversed());
    for (SpanReplication r : spans) {
      if (lowest.size() < limit) {
        lowest.add(r);
      } else if (LOWEST_FIRST.compare(r, lowest.peek()) < 0) {
        lowest.poll();
        lowest.add(r);
      }
    }
    List<SpanReplication> ordered = new ArrayList<>(lowest);
    ordered.sort(LOWEST_FIRST);
    List<CheckpointBlocker> out = new ArrayList<>(ordered.size());
    for (SpanReplication r : ordered) {
      String name = tableName.apply(r.span().getTableId());
      CheckpointBlocker.Builder b = CheckpointBlocker.newBuilder().setSpan(r.span()).setTable(name == null ? "" : name)
          .setCheckpointTs(r.checkpointTs());
      if (r.node() != null) {
        b.setNode(r.node().value());
      }
      ComponentState state = r.reportedState();
      if (state != null) {
        b.setDispatcherState(state.name().substring("COMPONENT_STATE_".length()));
      }
      reason(r, moving.test(r.span()), b);
      out.add(b.build());
    }
    return out;
  }

  private static void reason(SpanReplication r, boolean moving, CheckpointBlocker.Builder b) {
    if (r.blockedAtDdl()) {
      b.setReason(BlockerReason.DDL_BARRIER.label()).setDetail("its dispatcher waits at a schema change for the DDL barrier");
    } else if (r.hold() == SpanHold.SPAN_HOLD_SINK) {
      b.setReason(BlockerReason.SINK_ERROR.label()).setDetail(r.holdDetail());
    } else if (r.hold() == SpanHold.SPAN_HOLD_SOURCE) {
      b.setReason(BlockerReason.SOURCE_BEHIND.label()).setDetail(r.holdDetail());
    } else if (moving) {
      b.setReason(BlockerReason.MOVING.label()).setDetail("an operator is placing, moving or removing it");
    } else if (r.absent()) {
      b.setReason(BlockerReason.ABSENT.label()).setDetail("no dispatcher replicates it; it waits to be placed");
    } else {
      b.setReason(BlockerReason.SOURCE_BEHIND.label()).setDetail("its dispatcher has written everything its source has resolved");
    }
  }
}
