package io.feedline.common.time;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Clock;

/**
 * Vert.x timers bound to one context: tasks run on that context, so a role's state is only ever touched
 * by its own event loop.
 */
public final class VertxScheduler implements Scheduler {

  private final Vertx vertx;
  private final Context context;
  private final Clock clock;

  public VertxScheduler(Vertx vertx, Context context, Clock clock) {
    this.vertx = vertx;
    this.context = context;
    this.clock = clock;
  }

  /** A scheduler on the calling context (the current verticle's), with the system clock. */
  public static VertxScheduler onCurrentContext(Vertx vertx) {
    return new VertxScheduler(vertx, vertx.getOrCreateContext(), Clock.systemUTC());
  }

  @Override
  public long nowMillis() {
    return clock.millis();
  }

  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    if (delayMillis <= 0) {
      boolean[] cancelled = {false};
      context.runOnContext(v -> {
        if (!cancelled[0]) {
          task.run();
        }
      });
      return () -> cancelled[0] = true;
    }
    long id = vertx.setTimer(delayMillis, t -> context.runOnContext(v -> task.run()));
    return () -> vertx.cancelTimer(id);
  }

  @Override
  public Cancellable periodic(long periodMillis, Runnable task) {
    long id = vertx.setPeriodic(periodMillis, t -> context.runOnContext(v -> task.run()));
    return () -> vertx.cancelTimer(id);
  }
}
