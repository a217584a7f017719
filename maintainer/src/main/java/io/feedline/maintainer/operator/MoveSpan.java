package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Moves a span from {@code origin} to {@code destination}: the origin's dispatcher is stopped first, and
 * only then is the new one created from the origin's final checkpoint, so the span never has two
 * writers. If the destination leaves mid-move the span becomes absent, but only once the origin is
 * confirmed stopped (or gone); if the origin leaves, its dispatcher is gone and the create proceeds.
 */
public final class MoveSpan extends SpanOperator {

  private enum Phase {
    STOPPING_ORIGIN,
    CREATING,
    DONE
  }

  private final TableSpan span;
  private final long schemaId;
  private final NodeId origin;
  private final DispatcherKey originDispatcher;
  private final NodeId destination;
  private final DispatcherKey dispatcher;
  private Phase phase = Phase.STOPPING_ORIGIN;
  private boolean destinationLost;
  private long startTs;

  public MoveSpan(TableSpan span, long schemaId, NodeId origin, DispatcherKey originDispatcher, NodeId destination, DispatcherKey dispatcher) {
    this.span = span;
    this.schemaId = schemaId;
    this.origin = origin;
    this.originDispatcher = originDispatcher;
    this.destination = destination;
    this.dispatcher = dispatcher;
  }

  @Override
  public OperatorType type() {
    return OperatorType.OPERATOR_TYPE_MOVE;
  }

  @Override
  public List<TableSpan> spans() {
    return List.of(span);
  }

  @Override
  public Set<DispatcherKey> watched() {
    return new LinkedHashSet<>(List.of(originDispatcher, dispatcher));
  }

  public NodeId destination() {
    return destination;
  }

  @Override
  void start(SpanController spans) {
    startTs = spans.get(span).checkpointTs();
  }

  @Override
  void emit(ScheduleBatch batch) {
    if (phase == Phase.STOPPING_ORIGIN) {
      batch.remove(origin, originDispatcher, span, OperatorType.OPERATOR_TYPE_MOVE);
    } else if (phase == Phase.CREATING) {
      batch.create(destination, dispatcher, span, schemaId, startTs, OperatorType.OPERATOR_TYPE_MOVE);
    }
  }

  @Override
  public void onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs, SpanController spans) {
    if (phase == Phase.STOPPING_ORIGIN && id.equals(originDispatcher) && from.equals(origin)) {
      if (state == ComponentState.COMPONENT_STATE_WORKING) {
        spans.advance(spans.get(span), checkpointTs);
      } else if (stopped(state)) {
        originStopped(Math.max(spans.get(span).checkpointTs(), checkpointTs), spans);
      }
    } else if (phase == Phase.CREATING && id.equals(dispatcher) && from.equals(destination)) {
      if (state == ComponentState.COMPONENT_STATE_WORKING) {
        spans.working(span, checkpointTs);
        phase = Phase.DONE;
      } else if (stopped(state)) {
        spans.markAbsent(span, Math.max(startTs, checkpointTs));
        phase = Phase.DONE;
      }
    }
  }

  @Override
  public void onNodeRemoved(NodeId node, SpanController spans) {
    if (node.equals(destination)) {
      destinationLost = true;
      if (phase == Phase.CREATING) {
        spans.markAbsent(span, startTs);
        phase = Phase.DONE;
      }
    }
    if (node.equals(origin) && phase == Phase.STOPPING_ORIGIN) {
      originStopped(spans.get(span).checkpointTs(), spans);
    }
  }

  private void originStopped(long finalCheckpointTs, SpanController spans) {
    if (destinationLost) {
      spans.markAbsent(span, finalCheckpointTs);
      phase = Phase.DONE;
      return;
    }
    startTs = finalCheckpointTs;
    spans.markAbsent(span, finalCheckpointTs);
    spans.assign(span, dispatcher, destination, false);
    phase = Phase.CREATING;
    sendNextRound();
  }

  @Override
  public boolean finished() {
    return phase == Phase.DONE;
  }

  @Override
  public long checkpointFloor(SpanController spans) {
    return startTs;
  }

  @Override
  public String toString() {
    return "MoveSpan{" + TableSpans.format(span) + " " + originDispatcher + "@" + origin + " -> " + dispatcher + "@" + destination
        + " " + phase + '}';
  }
}
