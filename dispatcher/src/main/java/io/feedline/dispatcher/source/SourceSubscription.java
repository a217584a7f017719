package io.feedline.dispatcher.source;

import io.vertx.core.Future;

/**
 * A pull-based stream of one span's events, read in turns (as Flink's {@code SourceReader} is): the
 * consumer {@link #poll}s what is at hand, which never waits, and when nothing is, waits for
 * {@link #available}. Reading happens inside the caller's turn on its data lane, so the lane's scheduler
 * decides whose events are read next; the consumer polls again only after it has dealt with the previous
 * batch, which is all the backpressure a slow sink needs.
 */
public interface SourceSubscription {

  /**
   * The events after the previous batch that are at hand now, in commit-ts order, up to a resolved ts:
   * every event of the span with a commit ts at or below {@link ChangeBatch#resolvedTs()} has been
   * delivered once the batch is. Holds about {@code maxRows} events (a commit ts is never split across
   * batches); may hold none when only the resolved ts moved. Null when the span has nothing new yet.
   *
   * @throws SubscriptionCancelledException after {@link #cancel}
   */
  ChangeBatch poll(int maxRows);

  /**
   * Completes once {@link #poll} may return a batch (already completed when it may now). Fails with
   * {@link SubscriptionCancelledException} when the subscription is cancelled first. One caller at a time.
   */
  Future<Void> available();

  /** Stops the subscription; a pending {@link #available} fails with {@link SubscriptionCancelledException}. */
  void cancel();
}
