package io.feedline.common.metastore;

import java.time.Duration;

/**
 * How long a session lease is certainly still valid, seen from its holder. etcd expires a lease TTL after
 * the last keep-alive it <em>received</em>; the holder only knows when it <em>sent</em> the last one that
 * was acknowledged, which is earlier, so counting from there never overestimates. A safety margin is taken
 * off as well, for the holder's own lateness in noticing (a GC pause, a busy event loop, a clock tick):
 * while {@link #remainingNanos} is positive no other node can have been given what this one owns, and the
 * node may keep acting through a metastore outage; once it is not, the node must fence itself, whether the
 * store is reachable or not. Pure and not thread-safe: the lease's keep-alive loop owns it.
 */
public final class LeaseValidity {

  /** How often a keep-alive is sent while the store answers (more often for a lease valid under 2 s). */
  static final Duration KEEP_ALIVE_INTERVAL = Duration.ofMillis(500);
  /** How soon a failed keep-alive is tried again. */
  static final Duration RETRY_INTERVAL = Duration.ofMillis(250);
  private static final Duration MIN_SAFETY_MARGIN = Duration.ofSeconds(1);

  private final Duration ttl;
  private final Duration safetyMargin;
  private long validUntilNanos;

  /** A lease of {@code ttl} whose grant was sent at {@code grantSentAtNanos} ({@link System#nanoTime()}). */
  public LeaseValidity(Duration ttl, long grantSentAtNanos) {
    this.ttl = ttl;
    this.safetyMargin = safetyMargin(ttl);
    this.validUntilNanos = grantSentAtNanos + validFor().toNanos();
  }

  /**
   * A fifth of the TTL, at least 1 s: 2 s of the default 10 s, so an outage of up to about 7 s (the 8 s of
   * validity less the keep-alive interval and a reconnect) costs nothing.
   */
  public static Duration safetyMargin(Duration ttl) {
    Duration fifth = ttl.dividedBy(5);
    return fifth.compareTo(MIN_SAFETY_MARGIN) > 0 ? fifth : MIN_SAFETY_MARGIN;
  }

  /** How long after sending an acknowledged keep-alive the lease is still certainly valid. */
  public Duration validFor() {
    return ttl.minus(safetyMargin);
  }

  public Duration safetyMargin() {
    return safetyMargin;
  }

  public Duration keepAliveInterval() {
    Duration quarter = validFor().dividedBy(4);
    return quarter.compareTo(KEEP_ALIVE_INTERVAL) < 0 ? quarter : KEEP_ALIVE_INTERVAL;
  }

  public Duration retryInterval() {
    return RETRY_INTERVAL;
  }

  /** A keep-alive that is not answered within this is taken as failed (a hung store answers nothing). */
  public Duration keepAliveTimeout() {
    return keepAliveInterval().multipliedBy(2);
  }

  /** The keep-alive sent at {@code sentAtNanos} was acknowledged with the lease still alive. */
  public void acknowledged(long sentAtNanos) {
    validUntilNanos = Math.max(validUntilNanos, sentAtNanos + validFor().toNanos());
  }

  /** How much longer the lease is certainly valid at {@code nowNanos}; zero or less: it may have expired. */
  public long remainingNanos(long nowNanos) {
    return validUntilNanos - nowNanos;
  }
}
