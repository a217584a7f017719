package io.feedline.common.testing;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting in test threads only: on futures with a timeout, and for conditions with a deadline. A test that
 * drives verticles is a vertx-junit5 async test instead, and waits with {@link Eventually}.
 */
public final class Await {

  public static final Duration TIMEOUT = Duration.ofSeconds(10);
  /** How long a clustered node's start may take: it joins Hazelcast, slow on a loaded machine. */
  public static final Duration NODE_START = Duration.ofSeconds(60);
  private static final long POLL_MILLIS = 20;

  private Await() {}

  /** The future's result; fails the test if it fails or does not complete within {@link #TIMEOUT}. */
  public static <T> T await(Future<T> future) {
    return await(future, TIMEOUT);
  }

  /**
   * The future's result within {@code timeout}: for what takes long on a loaded machine through no fault
   * of the code under test (a clustered node's start joins Hazelcast).
   */
  public static <T> T await(Future<T> future, Duration timeout) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("future failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The future's failure; fails the test if it succeeds or does not complete within {@link #TIMEOUT}. */
  public static Throwable awaitFailure(Future<?> future) {
    try {
      Object result = future.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError("expected a failure, got " + result);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Polls {@code condition} until it holds; fails the test with {@code what} after {@link #TIMEOUT}. */
  public static void until(String what, BooleanSupplier condition) {
    until(what, TIMEOUT, condition);
  }

  /** Polls {@code condition} until it holds; fails the test with {@code what} after {@code within}. */
  public static void until(String what, Duration within, BooleanSupplier condition) {
    until(() -> what, within, condition);
  }

  /**
   * Polls {@code condition} until it holds; fails the test after {@code within} with {@code what}, asked
   * only then, so it can tell what the condition saw last (which of several parts was still missing).
   */
  public static void until(Supplier<String> what, Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within + ": " + what.get());
      }
      pause();
    }
  }

  /** Checks {@code invariant} repeatedly for {@code duration}, failing as soon as it is broken. */
  public static void holdsFor(Duration duration, String what, BooleanSupplier invariant) {
    long end = System.nanoTime() + duration.toNanos();
    do {
      if (!invariant.getAsBoolean()) {
        throw new AssertionError("broken: " + what);
      }
      pause();
    } while (System.nanoTime() < end);
  }

  private static void pause() {
    pause(Duration.ofMillis(POLL_MILLIS));
  }

  /** A test thread's wait between two polls of a cluster (an interrupt fails the test). */
  public static void pause(Duration between) {
    try {
      Thread.sleep(between.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
