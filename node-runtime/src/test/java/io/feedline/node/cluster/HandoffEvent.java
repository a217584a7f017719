package io.feedline.node.cluster;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.proto.TableSpan;

/**
 * One thing that happened to a span's replication somewhere in an in-JVM cluster, numbered by a JVM-wide
 * sequence at the moment it happened. If one event happens before another (same context, or through a
 * message), its number is lower, so the numbers order the whole cluster consistently with causality:
 * unlike reading the nodes one after another, "which dispatchers were Working at number n" is exact.
 */
sealed interface HandoffEvent {

  long seq();

  ChangefeedId changefeed();

  /** A dispatcher subscribed and may write from now on. */
  record Working(long seq, ChangefeedId changefeed, NodeId node, DispatcherKey dispatcher, TableSpan span) implements HandoffEvent {}

  /** A dispatcher stopped with no write in flight: nothing of it writes any more. */
  record Stopped(long seq, ChangefeedId changefeed, NodeId node, DispatcherKey dispatcher, TableSpan span) implements HandoffEvent {}

  /**
   * The maintainer at {@code epoch} sent (or resent) a schedule item of a span move: the removal of the
   * origin dispatcher ({@code create} false) or the creation of the destination one.
   */
  record MoveItem(long seq, ChangefeedId changefeed, long epoch, TableSpan span, DispatcherKey dispatcher, boolean create)
      implements HandoffEvent {}

  /**
   * The coordinator asked the maintainer at {@code epoch} to stop without closing the dispatchers: a
   * maintainer move (or the removal of a stale one). The table trigger goes with the maintainer.
   */
  record MaintainerLeaving(long seq, ChangefeedId changefeed, long epoch) implements HandoffEvent {}

  /** The maintainer at {@code epoch} asked its own node for the table trigger {@code trigger}. */
  record TriggerNamed(long seq, ChangefeedId changefeed, long epoch, DispatcherKey trigger) implements HandoffEvent {}
}
