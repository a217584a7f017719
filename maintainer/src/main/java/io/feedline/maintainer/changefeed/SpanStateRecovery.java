package io.feedline.maintainer.changefeed;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.barrier.Barrier;
import io.feedline.maintainer.operator.AddSpan;
import io.feedline.maintainer.operator.RemoveSpan;
import io.feedline.maintainer.operator.SpanOperatorController;
import io.feedline.maintainer.span.SpanController;
import io.feedline.maintainer.span.SpanRanges;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.SchemaInfo;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A new maintainer's span state from its first bootstrap (DESIGN §6): the dispatchers every node
 * reported, the in-flight journals, and the tables that exist where the table trigger resumes.
 *
 * <ul>
 *   <li>For every span one live dispatcher is kept: Working before Initializing, then the highest
 *       checkpoint. Others overlapping it would be second writers and are removed as strays.
 *   <li>An Initializing one gets an add operator that waits for it (resending its create is idempotent).
 *   <li>A dispatcher a journal says is being removed (a remove, or the first half of a move, split or
 *       merge) gets a remove operator; its span is then absent, to be placed again from its final
 *       checkpoint, or deleted when its table no longer exists.
 *   <li>A kept dispatcher of a table that no longer exists is removed and its span deleted: a dropped
 *       table stays dropped.
 *   <li>Key ranges of existing tables that nothing covers (their dispatchers died with a node) become
 *       absent spans from the changefeed checkpoint.
 * </ul>
 */
final class SpanStateRecovery {

  /** A dispatcher found in a snapshot. */
  record Found(NodeId node, DispatcherSnapshot snapshot, DispatcherKey id) {}

  /** What the rebuild found: the dispatchers it kept (their block states feed the barrier), and counts for the log. */
  record Outcome(int tables, List<Found> kept, int restoredRemoves, int strays, int absent) {}

  /** Working first, then the highest checkpoint, then by node: the dispatcher a span keeps when several claim it. */
  private static final Comparator<Found> PREFERRED = Comparator
      .comparing((Found f) -> f.snapshot().getState() != ComponentState.COMPONENT_STATE_WORKING)
      .thenComparing((a, b) -> Long.compareUnsigned(b.snapshot().getCheckpointTs(), a.snapshot().getCheckpointTs()))
      .thenComparing(Found::node);

  private SpanStateRecovery() {}

  static Outcome rebuild(Map<NodeId, MaintainerBootstrapResponse> snapshots, List<SchemaInfo> schemas, DispatcherKey trigger, long startTs,
      SpanController spans, SpanOperatorController operators) {
    Map<Long, Long> schemaOf = new LinkedHashMap<>();
    for (SchemaInfo schema : schemas) {
      for (TableInfo t : schema.getTablesList()) {
        schemaOf.put(t.getTableId(), schema.getSchemaId());
      }
    }
    Map<DispatcherKey, OperatorType> removeTypes = new LinkedHashMap<>();
    for (MaintainerBootstrapResponse r : snapshots.values()) {
      r.getOperatorsList().stream().filter(op -> op.getAction() == ScheduleAction.SCHEDULE_ACTION_REMOVE)
          .forEach(op -> removeTypes.put(DispatcherKey.of(op.getId()), op.getOperatorType()));
    }
    List<Found> candidates = new ArrayList<>();
    List<Found> removing = new ArrayList<>();
    for (Map.Entry<NodeId, MaintainerBootstrapResponse> e : snapshots.entrySet()) {
      for (DispatcherSnapshot d : e.getValue().getDispatchersList()) {
        DispatcherKey id = DispatcherKey.of(d.getId());
        if (d.getRedo() || !live(d.getState()) || id.equals(trigger)) {
          continue;
        }
        if (d.getSpan().getTableId() == Barrier.TRIGGER_TABLE) {
          operators.closeTrigger(e.getKey(), id, d.getSpan()); // an older trigger on this node, still stopping
          continue;
        }
        (removeTypes.containsKey(id) ? removing : candidates).add(new Found(e.getKey(), d, id));
      }
    }
    candidates.sort(PREFERRED);
    Map<Long, List<TableSpan>> accepted = new LinkedHashMap<>();
    List<Found> kept = new ArrayList<>();
    int strays = 0;
    for (Found f : candidates) {
      TableSpan span = f.snapshot().getSpan();
      if (!accept(span, accepted)) {
        operators.removeStray(f.node(), f.id(), span);
        strays++;
        continue;
      }
      boolean working = f.snapshot().getState() == ComponentState.COMPONENT_STATE_WORKING;
      bind(f, spans, working);
      if (!schemaOf.containsKey(span.getTableId())) {
        operators.add(new RemoveSpan(span, f.node(), f.id(), RemoveSpan.Then.DELETE, OperatorType.OPERATOR_TYPE_REMOVE));
      } else if (!working) {
        operators.add(new AddSpan(span, f.snapshot().getSchemaId(), f.node(), f.id(), f.snapshot().getCheckpointTs(),
            OperatorType.OPERATOR_TYPE_ADD));
      }
      kept.add(f);
    }
    int restoredRemoves = 0;
    for (Found f : removing) {
      TableSpan span = f.snapshot().getSpan();
      if (!accept(span, accepted)) {
        operators.removeStray(f.node(), f.id(), span);
        strays++;
        continue;
      }
      bind(f, spans, f.snapshot().getState() == ComponentState.COMPONENT_STATE_WORKING);
      RemoveSpan.Then then = schemaOf.containsKey(span.getTableId()) ? RemoveSpan.Then.ABSENT : RemoveSpan.Then.DELETE;
      operators.add(new RemoveSpan(span, f.node(), f.id(), then, removeTypes.get(f.id())));
      restoredRemoves++;
      kept.add(f);
    }
    int absent = 0;
    for (Map.Entry<Long, Long> table : schemaOf.entrySet()) {
      for (TableSpan gap : SpanRanges.gaps(table.getKey(), accepted.getOrDefault(table.getKey(), List.of()))) {
        spans.addAbsent(gap, table.getValue(), startTs);
        absent++;
      }
    }
    return new Outcome(schemaOf.size(), kept, restoredRemoves, strays, absent);
  }

  private static void bind(Found f, SpanController spans, boolean working) {
    TableSpan span = f.snapshot().getSpan();
    spans.addAbsent(span, f.snapshot().getSchemaId(), f.snapshot().getCheckpointTs());
    spans.assign(span, f.id(), f.node(), working);
  }

  /** Takes {@code span} unless it overlaps one already taken of its table. */
  private static boolean accept(TableSpan span, Map<Long, List<TableSpan>> accepted) {
    List<TableSpan> ofTable = accepted.computeIfAbsent(span.getTableId(), t -> new ArrayList<>());
    for (TableSpan other : ofTable) {
      if (SpanRanges.overlaps(other, span)) {
        return false;
      }
    }
    ofTable.add(span);
    return true;
  }

  private static boolean live(ComponentState state) {
    return state == ComponentState.COMPONENT_STATE_WORKING || state == ComponentState.COMPONENT_STATE_INITIALIZING;
  }
}
