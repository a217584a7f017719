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
 * Stops a span's dispatcher and, once it is confirmed stopped (or its node is gone), leaves the span
 * either absent (to be placed again from the final checkpoint) or deleted (its table was dropped).
 */
public final class RemoveSpan extends SpanOperator {

  /** What becomes of the span once its dispatcher stopped. */
  public enum Then {
    ABSENT,
    DELETE
  }

  private final TableSpan span;
  private final NodeId node;
  private final DispatcherKey dispatcher;
  private final Then then;
  private final OperatorType type;
  private boolean finished;

  public RemoveSpan(TableSpan span, NodeId node, DispatcherKey dispatcher, Then then, OperatorType type) {
    this.span = span;
    this.node = node;
    this.dispatcher = dispatcher;
    this.then = then;
    this.type = type;
  }

  @Override
  public OperatorType type() {
    return OperatorType.OPERATOR_TYPE_REMOVE;
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
    // The span stays bound to its dispatcher until that has stopped: nothing else may replicate it meanwhile.
  }

  @Override
  void emit(ScheduleBatch batch) {
    batch.remove(node, dispatcher, span, type);
  }

  @Override
  public void onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs, SpanController spans) {
    if (from.equals(node) && stopped(state)) {
      finish(checkpointTs, spans);
    }
  }

  @Override
  public void onNodeRemoved(NodeId removed, SpanController spans) {
    if (removed.equals(node)) {
      finish(0, spans);
    }
  }

  private void finish(long finalCheckpointTs, SpanController spans) {
    if (then == Then.DELETE) {
      spans.delete(span);
    } else {
      spans.markAbsent(span, finalCheckpointTs);
    }
    finished = true;
  }

  @Override
  public boolean finished() {
    return finished;
  }

  @Override
  public long checkpointFloor(SpanController spans) {
    var r = spans.get(span);
    return r == null ? Long.MAX_VALUE : r.checkpointTs();
  }

  @Override
  public String toString() {
    return "RemoveSpan{" + TableSpans.format(span) + " " + dispatcher + "@" + node + " then " + then + '}';
  }
}
