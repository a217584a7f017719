package io.feedline.common.concurrent;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs the tasks of one key in submission order, each after the previous one's future completed;
 * different keys never wait for each other. Nothing blocks: a task that waits (e.g. for a sink to
 * open) holds back only its own key's later tasks.
 *
 * <p>A task that throws, returns null or fails releases its key exactly like one that succeeds, so no
 * path can leak the slot. A key's lane disappears when it runs empty. Not thread-safe: use it from one
 * context (the orchestrator's).
 */
public final class KeyedSerialExecutor<K> {

  /** A key already has this many tasks waiting: the submission is refused (protocols resend). */
  public static final class LaneFullException extends RuntimeException {
    LaneFullException(Object key, int limit) {
      super("more than " + limit + " control tasks waiting for " + key, null, false, false);
    }
  }

  private static final class Lane {
    final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    boolean running;
    boolean pumping;
  }

  private final int maxWaitingPerKey;
  private final Map<K, Lane> lanes = new HashMap<>();

  /** @param maxWaitingPerKey bounds the backlog of a key whose current task never completes */
  public KeyedSerialExecutor(int maxWaitingPerKey) {
    if (maxWaitingPerKey < 1) {
      throw new IllegalArgumentException("maxWaitingPerKey must be positive: " + maxWaitingPerKey);
    }
    this.maxWaitingPerKey = maxWaitingPerKey;
  }

  public <T> Future<T> submit(K key, Supplier<Future<T>> task) {
    Lane lane = lanes.computeIfAbsent(key, k -> new Lane());
    if (lane.waiting.size() >= maxWaitingPerKey) {
      return Future.failedFuture(new LaneFullException(key, maxWaitingPerKey));
    }
    Promise<T> result = Promise.promise();
    lane.waiting.add(() -> {
      Future<T> started;
      try {
        started = task.get();
        if (started == null) {
          started = Future.failedFuture(new NullPointerException("task returned no future"));
        }
      } catch (RuntimeException e) {
        started = Future.failedFuture(e);
      }
      started.onComplete(ar -> {
        lane.running = false;
        pump(key, lane);
        result.handle(ar);
      });
    });
    pump(key, lane);
    return result.future();
  }

  /**
   * Starts waiting tasks while none is running. A task that completes synchronously comes back here
   * re-entrantly; the {@code pumping} flag turns that into another turn of the loop instead of a deeper
   * stack, so a long backlog of synchronous tasks cannot overflow it.
   */
  private void pump(K key, Lane lane) {
    if (lane.pumping) {
      return;
    }
    lane.pumping = true;
    try {
      while (!lane.running) {
        Runnable next = lane.waiting.poll();
        if (next == null) {
          lanes.remove(key, lane);
          return;
        }
        lane.running = true;
        next.run();
      }
    } finally {
      lane.pumping = false;
    }
  }

  /** Keys with a task running or waiting. */
  public int activeKeys() {
    return lanes.size();
  }

  /** Tasks of {@code key} running or waiting. */
  public int pending(K key) {
    Lane lane = lanes.get(key);
    return lane == null ? 0 : lane.waiting.size() + (lane.running ? 1 : 0);
  }
}
