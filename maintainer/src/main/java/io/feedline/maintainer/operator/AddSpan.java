package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.List;
import java.util.Set;

/**
 * Creates a dispatcher for an absent span on {@code destination} and waits for it to report Working.
 * If it stops instead (refused, failed) or the destination leaves, the span is absent again and the
 * scheduler places it anew with a fresh id. Also restores a create found in flight at bootstrap.
 */
public final class AddSpan extends SpanOperator {

  private final TableSpan span;
  private final long schemaId;
  private final NodeId destination;
  private final DispatcherKey dispatcher;
  private final long startTs;
  private final OperatorType type;
  private boolean finished;

  public AddSpan(TableSpan span, long schemaId, NodeId destination, DispatcherKey dispatcher, long startTs, OperatorType type) {
    this.span = span;
    this.schemaId = schemaId;
    this.destination = destination;
    this.dispatcher = dispatcher;
    this.startTs = startTs;
    this.type = type;
  }

  @Override
  public OperatorType type() {
    return OperatorType.OPERATOR_TYPE_ADD;
  }

  @Override
  public List<TableSpan> spans() {
    return List.of(span);
  }

  @Override
  public Set<DispatcherKey> watched() {
    return Set.of(dispatcher);
  }

  @Override
  void start(SpanController spans) {
    spans.assign(span, dispatcher, destination, false);
  }

  @Override
  void emit(ScheduleBatch batch) {
    batch.create(destination, dispatcher, span, schemaId, startTs, type);
  }

  @Override
  public void onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs, SpanController spans) {
    if (!from.equals(destination)) {
      return;
    }
    if (state == ComponentState.COMPONENT_STATE_WORKING) {
      spans.working(span, checkpointTs);
      finished = true;
    } else if (stopped(state)) {
      spans.markAbsent(span, Math.max(startTs, checkpointTs));
      finished = true;
    }
  }

  @Override
  public void onNodeRemoved(NodeId node, SpanController spans) {
    if (node.equals(destination)) {
      spans.markAbsent(span, startTs);
      finished = true;
    }
  }

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public long checkpointFloor(SpanController spans) {
    return startTs;
  }

  @Override
  public String toString() {
    return "AddSpan{" + TableSpans.format(span) + " -> " + dispatcher + "@" + destination + " from " + startTs + '}';
  }
}
