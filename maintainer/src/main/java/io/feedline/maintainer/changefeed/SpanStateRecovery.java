package io.feedline.maintainer.changefeed;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.operator.AddSpan;
import io.feedline.maintainer.operator.RemoveSpan;
import io.feedline.maintainer.operator.SpanOperatorController;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
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
 * reported, the in-flight journals, and the tables that exist where the table trigger resumes (its
 * position {@code P}, each table with the create ts of its incarnation there).
 *
 * <p>The trigger may resume far from the changefeed checkpoint {@code C}: an adopted trigger is usually
 * ahead of it, and its predecessor may have died between the trigger passing a DDL and the span change
 * that DDL asked for being made (a frozen add of a re-created table, a removal of a dropped one). The
 * state is therefore rebuilt as of {@code P}, and each dispatcher is judged by which incarnation of its
 * table it replicates, from its checkpoint alone (a span blocks at its own table's DROP and never passes
 * it, and a span of a created table starts at its CREATE):
 * <ul>
 *   <li>of the incarnation existing at {@code P} (its checkpoint at or above that incarnation's create
 *       ts): kept as below;
 *   <li>of an earlier incarnation (below that create ts), or of a table dropped at or before {@code P}: its
 *       DROP is written, since the trigger passed it, and so is everything before it (the DROP was written
 *       only once every span of the table waited at it, and a span never passes its own table's DROP); it
 *       is removed as a stray and holds no range, so a CREATE of the id after {@code P} adds the table at
 *       once (kept as a span, it held the range until its removal ended, and only the DROP re-opened from
 *       its own block state made that CREATE wait for it);
 *   <li>of a table created after {@code P} (a table absent at {@code P}, checkpoint above {@code P}; only a
 *       trigger behind the dispatchers, started from {@code C}, sees this): kept, and its CREATE, which the
 *       trigger replays, adds only what it does not cover.
 * </ul>
 * Of the kept ones:
 * <ul>
 *   <li>For every span one live dispatcher is kept: Working before Initializing, then the highest
 *       checkpoint. Others overlapping it would be second writers and are removed as strays.
 *   <li>An Initializing one gets an add operator that waits for it (resending its create is idempotent).
 *   <li>A dispatcher a journal says is being removed (a remove, or the first half of a move, split or
 *       merge) gets a remove operator; its span is then absent, to be placed again from its final
 *       checkpoint.
 * </ul>
 * Key ranges of tables existing at {@code P} that nothing covers become absent spans from {@code C}, or
 * from the table's create ts when that is later: every table between {@code C} and {@code P} gets its
 * span from its CREATE on, and none reads an earlier table's events under its id.
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

  /** Which incarnation of its table a found dispatcher replicates, relative to the trigger's position. */
  private enum Incarnation {
    CURRENT,
    EARLIER,
    LATER,
    DROPPED
  }

  /**
   * @param triggerTs the trigger's position {@code P}, where {@code tables} were read
   * @param startTs the changefeed checkpoint {@code C}
   */
  static Outcome rebuild(Map<NodeId, MaintainerBootstrapResponse> snapshots, List<SchemaInfo> schemas, DispatcherKey trigger, long triggerTs,
      long startTs, SpanController spans, SpanOperatorController operators) {
    Map<Long, TableAt> tables = new LinkedHashMap<>();
    for (SchemaInfo schema : schemas) {
      for (TableInfo t : schema.getTablesList()) {
        tables.put(t.getTableId(), new TableAt(schema.getSchemaId(), t.getCreateTs()));
      }
    }
    Map<DispatcherKey, OperatorType> removeTypes = new LinkedHashMap<>();
    for (MaintainerBootstrapResponse r : snapshots.values()) {
      r.getOperatorsList().stream().filter(op -> op.getAction() == ScheduleAction.SCHEDULE_ACTION_REMOVE)
          .forEach(op -> removeTypes.put(DispatcherKey.of(op.getId()), op.getOperatorType()));
    }
    List<Found> candidates = new ArrayList<>();
    List<Found> removing = new ArrayList<>();
    int passed = 0;
    for (Map.Entry<NodeId, MaintainerBootstrapResponse> e : snapshots.entrySet()) {
      for (DispatcherSnapshot d : e.getValue().getDispatchersList()) {
        DispatcherKey id = DispatcherKey.of(d.getId());
        if (d.getRedo() || !live(d.getState()) || id.equals(trigger)) {
          continue;
        }
        if (d.getSpan().getTableId() == TableSpans.DDL_TABLE_ID) {
          operators.closeTrigger(e.getKey(), id, d.getSpan()); // an older trigger on this node, still stopping
          continue;
        }
        Incarnation incarnation = incarnation(d, tables, triggerTs);
        if (incarnation == Incarnation.EARLIER || incarnation == Incarnation.DROPPED) {
          operators.removeStray(e.getKey(), id, d.getSpan());
          passed++;
          continue;
        }
        (removeTypes.containsKey(id) ? removing : candidates).add(new Found(e.getKey(), d, id));
      }
    }
    candidates.sort(PREFERRED);
    Map<Long, List<TableSpan>> accepted = new LinkedHashMap<>();
    List<Found> kept = new ArrayList<>();
    int strays = passed;
    for (Found f : candidates) {
      TableSpan span = f.snapshot().getSpan();
      if (!accept(span, accepted)) {
        operators.removeStray(f.node(), f.id(), span);
        strays++;
        continue;
      }
      boolean working = f.snapshot().getState() == ComponentState.COMPONENT_STATE_WORKING;
      bind(f, spans, working);
      if (!working) {
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
      operators.add(new RemoveSpan(span, f.node(), f.id(), RemoveSpan.Then.ABSENT, removeTypes.get(f.id())));
      restoredRemoves++;
      kept.add(f);
    }
    int absent = 0;
    for (Map.Entry<Long, TableAt> table : tables.entrySet()) {
      long from = Long.compareUnsigned(table.getValue().createTs(), startTs) > 0 ? table.getValue().createTs() : startTs;
      for (TableSpan gap : TableSpans.gaps(table.getKey(), accepted.getOrDefault(table.getKey(), List.of()))) {
        spans.addAbsent(gap, table.getValue().schemaId(), from);
        absent++;
      }
    }
    return new Outcome(tables.size(), kept, restoredRemoves, strays, absent);
  }

  /** A table as it exists at the trigger's position. */
  private record TableAt(long schemaId, long createTs) {}

  private static Incarnation incarnation(DispatcherSnapshot d, Map<Long, TableAt> tables, long triggerTs) {
    TableAt table = tables.get(d.getSpan().getTableId());
    if (table == null) {
      return Long.compareUnsigned(d.getCheckpointTs(), triggerTs) > 0 ? Incarnation.LATER : Incarnation.DROPPED;
    }
    return Long.compareUnsigned(d.getCheckpointTs(), table.createTs()) < 0 ? Incarnation.EARLIER : Incarnation.CURRENT;
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
      if (TableSpans.overlaps(other, span)) {
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
