package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.proto.ComponentState;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The changefeed's in-flight span operators, at most one per span, indexed by the dispatchers they
 * watch; plus the removals of stray dispatchers (ones that replicate nothing the maintainer knows:
 * leftovers of an older owner, a second table trigger), which hold no span. Each round it gathers every
 * due schedule item into one {@link ScheduleBatch}.
 *
 * <p>Once {@linkplain #quiesce() quiesced} (its maintainer is being removed, DESIGN §8) all of it freezes
 * where it stands except the closes of other table triggers: a frozen operator is neither resent nor fed
 * statuses or node losses, stays here and keeps holding the checkpoint at its floor, and nothing new
 * starts. Not thread-safe.
 */
public final class SpanOperatorController {

  /** A dispatcher to stop; {@code trigger}: a table trigger other than the maintainer's own. */
  private record Stray(NodeId node, DispatcherKey dispatcher, TableSpan span, boolean trigger) {}

  private final SpanController spans;
  private final long resendMillis;
  private final Map<TableSpan, SpanOperator> bySpan = new HashMap<>();
  private final Map<DispatcherKey, SpanOperator> byDispatcher = new HashMap<>();
  private final Set<SpanOperator> operators = new LinkedHashSet<>();
  private final Map<DispatcherKey, Stray> strays = new LinkedHashMap<>();
  private final Map<DispatcherKey, Long> straySentAt = new HashMap<>();
  private boolean quiesced;

  public SpanOperatorController(SpanController spans, long resendMillis) {
    this.spans = spans;
    this.resendMillis = resendMillis;
  }

  /**
   * Starts {@code op} unless one of its spans already has an operator or this is quiesced. Returns
   * whether it started.
   */
  public boolean add(SpanOperator op) {
    if (quiesced) {
      return false;
    }
    for (TableSpan s : op.spans()) {
      if (bySpan.containsKey(s)) {
        return false;
      }
    }
    op.start(spans);
    operators.add(op);
    op.spans().forEach(s -> bySpan.put(s, op));
    op.watched().forEach(d -> byDispatcher.put(d, op));
    return true;
  }

  public boolean has(TableSpan span) {
    return bySpan.containsKey(span);
  }

  public SpanOperator of(TableSpan span) {
    return bySpan.get(span);
  }

  public boolean watches(DispatcherKey dispatcher) {
    return byDispatcher.containsKey(dispatcher) || strays.containsKey(dispatcher);
  }

  public int size() {
    return operators.size();
  }

  public List<SpanOperator> operators() {
    return List.copyOf(operators);
  }

  /**
   * A dispatcher status. Returns whether an operator or a stray removal consumed it: then the span
   * controller must not also act on it.
   */
  public boolean onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs) {
    SpanOperator op = byDispatcher.get(id);
    if (op != null) {
      if (!quiesced) {
        op.onStatus(from, id, state, checkpointTs, spans);
        retireIfFinished(op);
      }
      return true;
    }
    Stray stray = strays.get(id);
    if (stray != null) {
      if (runs(stray) && stray.node().equals(from) && SpanOperator.stopped(state)) {
        strays.remove(id);
        straySentAt.remove(id);
      }
      return true;
    }
    return false;
  }

  /** Every operator and stray removal involving {@code node} learns it left. */
  public void onNodeRemoved(NodeId node) {
    strays.values().removeIf(s -> {
      boolean gone = runs(s) && s.node().equals(node);
      if (gone) {
        straySentAt.remove(s.dispatcher());
      }
      return gone;
    });
    if (quiesced) {
      return;
    }
    for (SpanOperator op : List.copyOf(operators)) {
      op.onNodeRemoved(node, spans);
      retireIfFinished(op);
    }
  }

  /**
   * Stops a dispatcher that replicates nothing this maintainer knows. Returns false when its removal is
   * already under way.
   */
  public boolean removeStray(NodeId node, DispatcherKey dispatcher, TableSpan span) {
    return addStray(new Stray(node, dispatcher, span, false));
  }

  /**
   * Stops a table trigger other than the maintainer's own (a previous owner's, or an older one on its
   * node): one DDL writer. Returns false when its removal is already under way.
   */
  public boolean closeTrigger(NodeId node, DispatcherKey dispatcher, TableSpan span) {
    return addStray(new Stray(node, dispatcher, span, true));
  }

  private boolean addStray(Stray stray) {
    if (!runs(stray) || strays.containsKey(stray.dispatcher()) || byDispatcher.containsKey(stray.dispatcher())) {
      return false;
    }
    strays.put(stray.dispatcher(), stray);
    return true;
  }

  /**
   * Freezes everything but the closes of other table triggers, for good (DESIGN §8, remove handoff):
   * the next owner may already be bootstrapping from the dispatcher side, and a resend or a step of an
   * operator from here would race its decisions (a span created twice, a dispatcher it adopted removed).
   * A trigger close keeps running for as long as the removing maintainer does (a cascading stop, until
   * every node closed): two DDL writers are worse than a late stop. A non-cascading stop ends at once and
   * leaves such closes to the next owner's bootstrap.
   */
  public void quiesce() {
    quiesced = true;
  }

  /** The operators and stray removals frozen by {@link #quiesce()}. */
  public long frozen() {
    return quiesced ? operators.size() + strays.values().stream().filter(s -> !runs(s)).count() : 0;
  }

  /** Whether {@code stray}'s removal still runs: all of them, or only trigger closes once quiesced. */
  private boolean runs(Stray stray) {
    return !quiesced || stray.trigger();
  }

  public boolean strayPending(DispatcherKey dispatcher) {
    return strays.containsKey(dispatcher);
  }

  /** Stray removals still waiting for their dispatcher to stop whose span is in {@code table}. */
  public long straysOfTable(long tableId) {
    return strays.values().stream().filter(s -> s.span().getTableId() == tableId).count();
  }

  /** Adds this round's due items (new operators at once, others once per resend interval) to {@code batch}. */
  public void collect(long nowMillis, ScheduleBatch batch) {
    if (!quiesced) {
      for (SpanOperator op : operators) {
        op.collect(nowMillis, resendMillis, batch);
      }
    }
    for (Stray s : strays.values()) {
      Long sent = straySentAt.get(s.dispatcher());
      if (runs(s) && (sent == null || nowMillis - sent >= resendMillis)) {
        batch.remove(s.node(), s.dispatcher(), s.span(), OperatorType.OPERATOR_TYPE_REMOVE);
        straySentAt.put(s.dispatcher(), nowMillis);
      }
    }
  }

  /** The lowest checkpoint any running or frozen operator must hold the changefeed at. */
  public long checkpointFloor() {
    long floor = Long.MAX_VALUE;
    for (SpanOperator op : operators) {
      floor = Math.min(floor, op.checkpointFloor(spans));
    }
    return floor;
  }

  /** The operators, for logs and tests. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    operators.forEach(op -> out.add(op.toString()));
    strays.values().forEach(s -> out.add("RemoveStray{" + s.dispatcher() + "@" + s.node() + "}"));
    return out;
  }

  private void retireIfFinished(SpanOperator op) {
    if (!op.finished()) {
      return;
    }
    operators.remove(op);
    op.spans().forEach(s -> bySpan.remove(s, op));
    op.watched().forEach(d -> byDispatcher.remove(d, op));
  }
}
