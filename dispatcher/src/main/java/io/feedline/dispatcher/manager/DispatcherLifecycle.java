package io.feedline.dispatcher.manager;

import io.feedline.common.id.ChangefeedId;
import io.feedline.dispatcher.dispatcher.DispatcherSpec;

/**
 * Hears, at the moment it happens and on the orchestrator's context, when a dispatcher of this node may
 * start writing and when it has written for the last time. The heartbeat's Working state lags both edges
 * by a turn or more, so it cannot tell whether two dispatchers of one span ever wrote at once, or how long
 * a span went unreplicated during a move; this can. Today only the multi-node invariant tests listen
 * (the cluster drain test's exact handoff history); a per-span handoff-gap metric would be the next
 * listener. Must not block.
 */
public interface DispatcherLifecycle {

  DispatcherLifecycle NONE = new DispatcherLifecycle() {
    @Override
    public void working(ChangefeedId changefeed, DispatcherSpec dispatcher) {}

    @Override
    public void stopped(ChangefeedId changefeed, DispatcherSpec dispatcher) {}
  };

  /** Subscribed: from now on it may write. */
  void working(ChangefeedId changefeed, DispatcherSpec dispatcher);

  /**
   * Stopped (asked to, closed with its manager, or failed) with no write in flight: nothing of it writes
   * any more. Called once for every started dispatcher, also for one that never got to {@link #working}.
   */
  void stopped(ChangefeedId changefeed, DispatcherSpec dispatcher);
}
