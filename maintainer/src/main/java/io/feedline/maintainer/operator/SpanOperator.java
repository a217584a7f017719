package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.proto.ComponentState;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.List;
import java.util.Set;

/**
 * One in-flight change of where spans are replicated. It holds its spans exclusively (one operator per
 * span, enforced by {@link SpanOperatorController}), resends its current schedule items at most once per
 * resend interval until the dispatcher side confirms them, follows the statuses of the dispatchers it
 * {@linkplain #watched() watches}, and handles the loss of any node it involves. When it finishes it
 * has left its spans in the {@link SpanController} either replicated or absent, never in between.
 */
public abstract class SpanOperator {

  private static final long NEVER = Long.MIN_VALUE / 2;
  private long sentAtMillis = NEVER;

  public abstract OperatorType type();

  /** The spans this operator holds. */
  public abstract List<TableSpan> spans();

  /** The dispatchers whose statuses this operator consumes; fixed for its lifetime. */
  public abstract Set<DispatcherKey> watched();

  /** Binds the operator's spans to their new dispatchers, when it has any yet. */
  abstract void start(SpanController spans);

  /** The schedule items of the current phase. */
  abstract void emit(ScheduleBatch batch);

  /** A status of one of the {@linkplain #watched() watched} dispatchers, reported by {@code from}. */
  public abstract void onStatus(NodeId from, DispatcherKey id, ComponentState state, long checkpointTs, SpanController spans);

  /** {@code node} left the cluster: everything it hosted is gone with it. */
  public abstract void onNodeRemoved(NodeId node, SpanController spans);

  public abstract boolean finished();

  /** The changefeed checkpoint may not pass this while the operator runs. */
  public abstract long checkpointFloor(SpanController spans);

  /** Emits the current phase's items if they were never sent, or last sent a resend interval ago. */
  final void collect(long nowMillis, long resendMillis, ScheduleBatch batch) {
    if (!finished() && nowMillis - sentAtMillis >= resendMillis) {
      emit(batch);
      sentAtMillis = nowMillis;
    }
  }

  /** A new phase: its items go out in the next round, not a resend interval later. */
  protected final void sendNextRound() {
    sentAtMillis = NEVER;
  }

  protected static boolean stopped(ComponentState state) {
    return state == ComponentState.COMPONENT_STATE_STOPPED || state == ComponentState.COMPONENT_STATE_REMOVED;
  }
}
