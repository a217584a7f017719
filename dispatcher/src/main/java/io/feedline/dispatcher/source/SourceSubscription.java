package io.feedline.dispatcher.source;

import io.vertx.core.Future;

/**
 * A pull-based stream of one span's events: the consumer asks for the next batch only when it has dealt
 * with the previous one, which is all the backpressure a slow sink needs. Never blocks: a caught-up
 * subscription completes {@link #next} when the upstream has moved on.
 */
public interface SourceSubscription {

  /**
   * The events after the previous batch, in commit-ts order, up to a resolved ts: every event of the
   * span with a commit ts at or below {@link ChangeBatch#resolvedTs()} has been delivered once the
   * batch is. Holds about {@code maxRows} events (a commit ts is never split across batches). Call
   * again only after the previous future completed.
   */
  Future<ChangeBatch> next(int maxRows);

  /** Stops the subscription; a pending {@link #next} fails with {@link SubscriptionCancelledException}. */
  void cancel();
}
