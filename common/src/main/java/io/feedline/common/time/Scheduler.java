package io.feedline.common.time;

/**
 * Time and timers for decision code. Production passes {@link VertxScheduler}; tests pass
 * {@code ManualScheduler} (testkit) and advance it, so "after 500 ms the request is re-sent" is deterministic.
 */
public interface Scheduler {

  long nowMillis();

  /** Runs {@code task} once after {@code delayMillis} (0 = as soon as possible, never inline). */
  Cancellable schedule(long delayMillis, Runnable task);

  /** Runs {@code task} every {@code periodMillis}, the first time one period from now. */
  Cancellable periodic(long periodMillis, Runnable task);

  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}
