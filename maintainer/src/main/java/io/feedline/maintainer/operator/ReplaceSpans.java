package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.ComponentState;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Split and merge of one table's spans: the dispatchers of the old spans are stopped, and once every one
 * is confirmed stopped (or its node gone) the old spans are replaced by the new ones, absent, from the
 * lowest final checkpoint, for the basic scheduler to place. Stopping first keeps one writer per key
 * range; starting from the lowest checkpoint skips nothing. A split is one old span into several, a
 * merge several adjacent ones into one.
 */
public final class ReplaceSpans extends SpanOperator {

  private record Part(TableSpan span, NodeId node, DispatcherKey dispatcher) {}

  private final OperatorType type;
  private final long schemaId;
  private final List<TableSpan> replacements;
  private final Map<DispatcherKey, Part> stopping = new LinkedHashMap<>();
  private final Map<TableSpan, Long> finalCheckpoints = new HashMap<>();
  private final List<TableSpan> old;
  private final Set<DispatcherKey> watched = new HashSet<>();
  private boolean finished;

  private ReplaceSpans(OperatorType type, List<SpanReplication> old, List<TableSpan> replacements) {
    this.type = type;
    this.schemaId = old.get(0).schemaId();
    this.old = old.stream().map(SpanReplication::span).toList();
    this.replacements = List.copyOf(replacements);
    for (SpanReplication r : old) {
      stopping.put(r.dispatcher(), new Part(r.span(), r.node(), r.dispatcher()));
      watched.add(r.dispatcher());
    }
  }

  /** Splits {@code span} (replicated, no operator) into {@code parts} that cover it exactly. */
  public static ReplaceSpans split(SpanReplication span, List<TableSpan> parts) {
    return new ReplaceSpans(OperatorType.OPERATOR_TYPE_SPLIT, List.of(span), parts);
  }

  /** Merges adjacent replicated spans of one table into {@code merged}, which covers them exactly. */
  public static ReplaceSpans merge(List<SpanReplication> spans, TableSpan merged) {
    return new ReplaceSpans(OperatorType.OPERATOR_TYPE_MERGE, spans, List.of(merged));
  }

  @Override
  public OperatorType type() {
    return type;
  }

  @Override
  public List<TableSpan> spans() {
    return old;
  }

  @Override
  public Set<DispatcherKey> watched() {
    return watched;
  }

  @Override
  void start(SpanController spans) {
    // The old dispatchers keep their spans until they stop.
  }

  @Override
  void emit(ScheduleBatch batch) {
    stopping.values().forEach(p -> batch.remove(p.node(), p.dispatcher(), p.span(), type));
  }

  @Override
  public void onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs, SpanController spans) {
    Part part = stopping.get(id);
    if (part != null && part.node().equals(from) && stopped(state)) {
      partStopped(part, checkpointTs, spans);
    }
  }

  @Override
  public void onNodeRemoved(NodeId node, SpanController spans) {
    for (Part part : List.copyOf(stopping.values())) {
      if (part.node().equals(node)) {
        partStopped(part, 0, spans);
      }
    }
  }

  private void partStopped(Part part, long checkpointTs, SpanController spans) {
    stopping.remove(part.dispatcher());
    finalCheckpoints.put(part.span(), Math.max(checkpointTs, spans.get(part.span()).checkpointTs()));
    if (stopping.isEmpty()) {
      long from = finalCheckpoints.values().stream().mapToLong(Long::longValue).min().orElseThrow();
      spans.replace(old, replacements, schemaId, from);
      finished = true;
    }
  }

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public long checkpointFloor(SpanController spans) {
    long floor = Long.MAX_VALUE;
    for (TableSpan s : old) {
      SpanReplication r = spans.get(s);
      if (r != null) {
        floor = Math.min(floor, r.checkpointTs());
      }
    }
    return floor;
  }

  @Override
  public String toString() {
    return (type == OperatorType.OPERATOR_TYPE_SPLIT ? "SplitSpan{" : "MergeSpans{")
        + old.stream().map(TableSpans::format).toList() + " -> " + replacements.stream().map(TableSpans::format).toList() + '}';
  }
}
