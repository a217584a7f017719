package io.feedline.maintainer.span;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The changefeed's spans and who replicates each (span → dispatcher, node, state), with the indexes the
 * maintainer needs at a million spans: by dispatcher id (heartbeat statuses), by table (DDL barrier,
 * drops), by node (node loss, load) and the absent set the basic scheduler places from. Pure in-memory
 * state; not thread-safe.
 */
public final class SpanController {

  private final Map<TableSpan, SpanReplication> spans = new HashMap<>();
  private final Map<DispatcherKey, SpanReplication> byDispatcher = new HashMap<>();
  /** Lists, not sets: a table has one span or a few, and a million tables must stay cheap. */
  private final Map<Long, List<TableSpan>> byTable = new HashMap<>();
  private final Map<NodeId, Set<TableSpan>> byNode = new HashMap<>();
  /** Insertion ordered, so spans are placed in the order they became absent. */
  private final Set<TableSpan> absent = new LinkedHashSet<>();
  /**
   * The lowest span checkpoint, exact unless {@link #minCheckpointStale}: the changefeed checkpoint is
   * read every round (10 a second), and walking a million spans for it each time cost more than the
   * rest of the round; only the span holding the minimum moving or leaving needs a new walk.
   */
  private long minCheckpointTs = Long.MAX_VALUE;
  private boolean minCheckpointStale;

  /** Adds an absent span that a new dispatcher will replicate from {@code checkpointTs}. */
  public SpanReplication addAbsent(TableSpan span, long schemaId, long checkpointTs) {
    if (spans.containsKey(span)) {
      throw new IllegalStateException("span already known: " + TableSpans.format(span));
    }
    SpanReplication r = new SpanReplication(span, schemaId, checkpointTs);
    spans.put(span, r);
    minCheckpointTs = Math.min(minCheckpointTs, checkpointTs);
    byTable.computeIfAbsent(span.getTableId(), t -> new ArrayList<>(1)).add(span);
    absent.add(span);
    return r;
  }

  /** {@code dispatcher} on {@code node} now replicates (or is being created to replicate) {@code span}. */
  public void assign(TableSpan span, DispatcherKey dispatcher, NodeId node, boolean working) {
    SpanReplication r = require(span);
    unbind(r);
    r.dispatcher = dispatcher;
    r.node = node;
    r.working = working;
    byDispatcher.put(dispatcher, r);
    byNode.computeIfAbsent(node, n -> new LinkedHashSet<>()).add(span);
    absent.remove(span);
  }

  /** The span's dispatcher reported Working at {@code checkpointTs}. */
  public void working(TableSpan span, long checkpointTs) {
    SpanReplication r = require(span);
    r.working = true;
    advance(r, checkpointTs);
  }

  /** A checkpoint reported by the span's dispatcher; checkpoints never move back. */
  public void advance(SpanReplication r, long checkpointTs) {
    if (checkpointTs > r.checkpointTs) {
      if (r.checkpointTs == minCheckpointTs) {
        minCheckpointStale = true;
      }
      r.checkpointTs = checkpointTs;
    }
  }

  /**
   * What a status of a dispatcher the span was bound to says besides progress, seen after the progress is
   * applied. A live status: its state, whether it is blocked at a DDL, and a stalled write's hold (which
   * lasts while it is reported). A Stopped one carries a hold only when the dispatcher failed (a stop asked
   * for carries none); the span may be unbound or bound to a new dispatcher by then, so only that failure
   * is kept, and it outlives the dispatcher (the next one may fail the same way) until the span's checkpoint
   * passes where it failed.
   */
  public void observe(SpanReplication r, SpanStatus status) {
    boolean stopped = status.getState() == ComponentState.COMPONENT_STATE_STOPPED;
    if (status.getHold() != SpanHold.SPAN_HOLD_NONE) {
      r.hold = status.getHold();
      r.holdDetail = status.getHoldDetail();
      r.holdIsFailure = stopped;
      r.holdCheckpointTs = r.checkpointTs;
    } else if (!stopped && (!r.holdIsFailure || r.checkpointTs > r.holdCheckpointTs)) {
      r.hold = SpanHold.SPAN_HOLD_NONE;
      r.holdDetail = "";
      r.holdIsFailure = false;
    }
    if (!stopped) {
      r.reportedState = status.getState();
      r.blockedAtDdl = status.getBlockState().getBlocked();
    }
  }

  /** The span's dispatcher is gone: the span waits for a new one from {@code checkpointTs} (or later). */
  public void markAbsent(TableSpan span, long checkpointTs) {
    SpanReplication r = require(span);
    unbind(r);
    advance(r, checkpointTs);
    absent.add(span);
  }

  /** Forgets the span (its table was dropped, or it was replaced by a split or merge). */
  public void delete(TableSpan span) {
    SpanReplication r = spans.remove(span);
    if (r == null) {
      return;
    }
    if (r.checkpointTs == minCheckpointTs) {
      minCheckpointStale = true;
    }
    unbind(r);
    absent.remove(span);
    List<TableSpan> ofTable = byTable.get(span.getTableId());
    ofTable.remove(span);
    if (ofTable.isEmpty()) {
      byTable.remove(span.getTableId());
    }
  }

  /** Replaces {@code old} spans by absent {@code parts} starting at {@code checkpointTs} (split, merge). */
  public void replace(List<TableSpan> old, List<TableSpan> parts, long schemaId, long checkpointTs) {
    old.forEach(this::delete);
    parts.forEach(p -> addAbsent(p, schemaId, checkpointTs));
  }

  /** The lowest checkpoint of any span, or {@link Long#MAX_VALUE} when there is none. */
  public long minCheckpointTs() {
    if (minCheckpointStale) {
      long min = Long.MAX_VALUE;
      for (SpanReplication r : spans.values()) {
        min = Math.min(min, r.checkpointTs);
      }
      minCheckpointTs = min;
      minCheckpointStale = false;
    }
    return minCheckpointTs;
  }

  public SpanReplication get(TableSpan span) {
    return spans.get(span);
  }

  public SpanReplication byDispatcher(DispatcherKey dispatcher) {
    return byDispatcher.get(dispatcher);
  }

  public Collection<SpanReplication> all() {
    return spans.values();
  }

  public int size() {
    return spans.size();
  }

  public Set<Long> tables() {
    return byTable.keySet();
  }

  public boolean hasTable(long tableId) {
    return byTable.containsKey(tableId);
  }

  /** The spans of {@code tableId}, in the order they were added. */
  public List<TableSpan> ofTable(long tableId) {
    List<TableSpan> s = byTable.get(tableId);
    return s == null ? List.of() : List.copyOf(s);
  }

  /** The spans whose dispatcher is (being created) on {@code node}. */
  public List<TableSpan> on(NodeId node) {
    Set<TableSpan> s = byNode.get(node);
    return s == null ? List.of() : List.copyOf(s);
  }

  /** The nodes that replicate (or are being given) any span. */
  public Set<NodeId> hostingNodes() {
    return byNode.keySet();
  }

  /** Visits the spans on {@code node} without copying them; {@code visit} must not change the controller. */
  public void forEachOn(NodeId node, Consumer<SpanReplication> visit) {
    Set<TableSpan> s = byNode.get(node);
    if (s != null) {
      s.forEach(span -> visit.accept(spans.get(span)));
    }
  }

  /** How many spans each node replicates, for nodes that replicate any. */
  public Map<NodeId, Integer> load() {
    Map<NodeId, Integer> load = new LinkedHashMap<>();
    byNode.forEach((n, s) -> load.put(n, s.size()));
    return load;
  }

  public int loadOf(NodeId node) {
    Set<TableSpan> s = byNode.get(node);
    return s == null ? 0 : s.size();
  }

  /** Absent spans, oldest first; a live view. */
  public Set<TableSpan> absent() {
    return absent;
  }

  /** The spans no dispatcher covers, for logs and tests. */
  public List<TableSpan> absentList() {
    return new ArrayList<>(absent);
  }

  private void unbind(SpanReplication r) {
    if (r.dispatcher != null) {
      byDispatcher.remove(r.dispatcher);
      Set<TableSpan> onNode = byNode.get(r.node);
      if (onNode != null) {
        onNode.remove(r.span());
        if (onNode.isEmpty()) {
          byNode.remove(r.node);
        }
      }
    }
    r.dispatcher = null;
    r.node = null;
    r.working = false;
    // What the old dispatcher said of itself says nothing of the next one (a failure's hold is the span's).
    r.reportedState = null;
    r.blockedAtDdl = false;
  }

  private SpanReplication require(TableSpan span) {
    SpanReplication r = spans.get(span);
    if (r == null) {
      throw new IllegalStateException("unknown span: " + TableSpans.format(span));
    }
    return r;
  }
}
