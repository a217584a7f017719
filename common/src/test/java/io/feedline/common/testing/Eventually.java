package io.feedline.common.testing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waiting for a condition without blocking a thread, for vertx-junit5 tests: a timer on the test's Vert.x
 * checks the condition every {@value #POLL_MILLIS} ms and completes the returned future once it holds.
 *
 * <p>There is no deadline here: the test's {@code @io.vertx.junit5.Timeout} bounds the whole test, and so
 * every wait in it. So that a timed-out test still tells which wait hung, a wait that takes long logs what
 * it waits for and what its probe saw last every {@value #REPORT_MILLIS} ms. {@link Await} is the blocking
 * counterpart, for code that runs on a test thread.
 */
public final class Eventually {

  private static final Logger LOG = LoggerFactory.getLogger(Eventually.class);
  static final long POLL_MILLIS = 20;
  static final long REPORT_MILLIS = 5_000;

  private Eventually() {}

  /** Completes once {@code condition} holds. It runs on a worker thread, so it may block (HTTP, files, a process). */
  public static Future<Void> until(Vertx vertx, String what, BooleanSupplier condition) {
    return until(vertx, what, condition::getAsBoolean, held -> held).mapEmpty();
  }

  /**
   * Completes with the first value of {@code probe} that {@code holds} accepts. The probe runs on a worker
   * thread, so it may block; {@code holds} runs on an event loop and must not. If either throws, the
   * returned future fails with that.
   */
  public static <T> Future<T> until(Vertx vertx, String what, Callable<T> probe, Predicate<? super T> holds) {
    return untilAsync(vertx, what, () -> vertx.executeBlocking(probe), holds);
  }

  /**
   * As {@link #until(Vertx, String, Callable, Predicate)} for a probe that answers with a future (a metastore
   * read): it is asked again only once its previous answer came, so probes never overlap.
   */
  public static <T> Future<T> untilAsync(Vertx vertx, String what, Supplier<Future<T>> probe, Predicate<? super T> holds) {
    Promise<T> done = Promise.promise();
    new Poll<>(vertx, what, probe, holds, done).check();
    return done.future();
  }

  /**
   * Checks {@code invariant} (on a worker thread) every {@value #POLL_MILLIS} ms for {@code duration}: fails
   * as soon as it is broken, completes once it held throughout.
   */
  public static Future<Void> holdsFor(Vertx vertx, Duration duration, String what, BooleanSupplier invariant) {
    long end = System.nanoTime() + duration.toNanos();
    Promise<Void> done = Promise.promise();
    holdsUntil(vertx, end, what, invariant, done);
    return done.future();
  }

  private static void holdsUntil(Vertx vertx, long end, String what, BooleanSupplier invariant, Promise<Void> done) {
    vertx.executeBlocking(invariant::getAsBoolean).onComplete(checked -> {
      if (checked.failed()) {
        done.fail(checked.cause());
      } else if (!checked.result()) {
        done.fail(new AssertionError("broken: " + what));
      } else if (System.nanoTime() >= end) {
        done.complete();
      } else {
        vertx.setTimer(POLL_MILLIS, id -> holdsUntil(vertx, end, what, invariant, done));
      }
    });
  }

  /** One wait: asks the probe, and again one poll interval after each answer that does not hold. */
  private static final class Poll<T> {
    private final Vertx vertx;
    private final String what;
    private final Supplier<Future<T>> probe;
    private final Predicate<? super T> holds;
    private final Promise<T> done;
    private final long started = System.nanoTime();
    private long reported = started;

    Poll(Vertx vertx, String what, Supplier<Future<T>> probe, Predicate<? super T> holds, Promise<T> done) {
      this.vertx = vertx;
      this.what = what;
      this.probe = probe;
      this.holds = holds;
      this.done = done;
    }

    void check() {
      Future<T> answer;
      try {
        answer = probe.get();
      } catch (Throwable e) {
        done.fail(e);
        return;
      }
      answer.onComplete(ar -> {
        if (ar.failed()) {
          done.fail(ar.cause());
          return;
        }
        try {
          if (holds.test(ar.result())) {
            done.complete(ar.result());
            return;
          }
        } catch (Throwable e) {
          done.fail(e);
          return;
        }
        reportIfSlow(ar.result());
        vertx.setTimer(POLL_MILLIS, id -> check());
      });
    }

    private void reportIfSlow(T lastSeen) {
      long now = System.nanoTime();
      if (now - reported >= TimeUnit.MILLISECONDS.toNanos(REPORT_MILLIS)) {
        reported = now;
        LOG.info("event=still_waiting what=\"{}\" waited_ms={} last_seen=\"{}\"", what, TimeUnit.NANOSECONDS.toMillis(now - started), lastSeen);
      }
    }
  }
}
