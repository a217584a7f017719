package io.feedline.common.time;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;

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

  /**
   * The task runs on this scheduler's context. A cancel stops it even when the timer has already fired
   * and the task is only waiting for the context (the timer's own cancel is too late then).
   */
  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    AtomicBoolean cancelled = new AtomicBoolean();
    Runnable onContext = () -> context.runOnContext(v -> {
      if (!cancelled.get()) {
        task.run();
      }
    });
    if (delayMillis <= 0) {
      onContext.run();
      return () -> cancelled.set(true);
    }
    long id = vertx.setTimer(delayMillis, t -> onContext.run());
    return () -> {
      cancelled.set(true);
      vertx.cancelTimer(id);
    };
  }

  @Override
  public Cancellable periodic(long periodMillis, Runnable task) {
    AtomicBoolean cancelled = new AtomicBoolean();
    long id = vertx.setPeriodic(periodMillis, t -> context.runOnContext(v -> {
      if (!cancelled.get()) {
        task.run();
      }
    }));
    return () -> {
      cancelled.set(true);
      vertx.cancelTimer(id);
    };
  }
}
