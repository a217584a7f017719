package io.feedline.common.messaging;

import io.feedline.common.time.Scheduler;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Sends a request now and again every interval until it is acknowledged: how every protocol here
 * converges over fire-and-forget sends. One entry per key; starting a key again replaces its sender.
 * Not thread-safe: owned by one role's context.
 */
public final class Resender<K> {

  private final Scheduler scheduler;
  private final long intervalMillis;
  private final Map<K, Scheduler.Cancellable> active = new LinkedHashMap<>();

  public Resender(Scheduler scheduler, long intervalMillis) {
    if (intervalMillis <= 0) {
      throw new IllegalArgumentException("resend interval must be positive: " + intervalMillis);
    }
    this.scheduler = scheduler;
    this.intervalMillis = intervalMillis;
  }

  /** Runs {@code send} now and every interval until {@link #stop} for {@code key}. */
  public void start(K key, Runnable send) {
    stop(key);
    active.put(key, scheduler.periodic(intervalMillis, send));
    send.run();
  }

  /** The request for {@code key} was acknowledged (or abandoned). Returns whether it was active. */
  public boolean stop(K key) {
    Scheduler.Cancellable c = active.remove(key);
    if (c != null) {
      c.cancel();
      return true;
    }
    return false;
  }

  public boolean isActive(K key) {
    return active.containsKey(key);
  }

  /** The keys being resent, in the order they were first sent (a {@code Set.copyOf} would iterate in a per-JVM random order). */
  public Set<K> activeKeys() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(active.keySet()));
  }

  public void stopAll() {
    active.values().forEach(Scheduler.Cancellable::cancel);
    active.clear();
  }
}
