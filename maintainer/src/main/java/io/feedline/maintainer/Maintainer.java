package io.feedline.maintainer;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerStatus;
import io.vertx.core.Future;

/**
 * One changefeed's maintainer on this node, as the maintainer manager sees it. Every method is called
 * on the manager's context and must not block.
 */
public interface Maintainer {

  ChangefeedId changefeedId();

  /** The ownership generation this maintainer was created for; it never changes. */
  long epoch();

  /** Begins the maintainer's work. Called once, after creation. */
  void start();

  /**
   * Stops the maintainer. With {@code cascade}, the changefeed's dispatcher managers on every live node
   * are closed ({@code removed}: dropped rather than paused) before the stop is done. The future
   * completes once the maintainer has fully stopped and never fails: the manager replaces or forgets a
   * maintainer only after that. Called at most once.
   */
  Future<Void> stop(boolean cascade, boolean removed);

  /**
   * What the manager reports for this maintainer in heartbeats and bootstrap responses. Its
   * {@code drain_progress} answers the latest {@link #drainTarget}: that target, the dispatchers of this
   * changefeed still on the target node, and the drain moves in flight; the coordinator counts a
   * maintainer as done with a drain only once it reports the current target with both counts at 0.
   */
  MaintainerStatus status();

  /**
   * The node's dispatcher drain target changed (DESIGN §8): move this changefeed's dispatchers off
   * {@code target.target_node} (at most {@code DrainConcurrency.limit(n)} moves at once) and place none on
   * it; an empty node clears the target. The manager calls it once with the node's current target right
   * after creating the maintainer (before {@link #start()}), then on every newer target; every call
   * replaces the previous target (the manager already applied the monotonic rules).
   */
  void drainTarget(DrainTarget target);

  /**
   * A message from the dispatcher side of the cluster for this changefeed (close responses; later also
   * bootstrap responses, dispatcher heartbeats and block statuses), routed here by changefeed id.
   */
  void onDispatcherMessage(NodeId from, Message message);
}
