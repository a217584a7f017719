package io.feedline.common.metastore;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether a metastore client reaches its store: since when it has not (the first failure after the last
 * success), and why. Requests and keep-alives report to it from any thread; health checks, node listings
 * and a gauge read it.
 */
public final class Reachability {

  /** Since when the store has not answered, and the last error. */
  public record Outage(Instant since, String lastError) {}

  private final Clock clock;
  private final AtomicReference<Outage> outage = new AtomicReference<>();

  public Reachability(Clock clock) {
    this.clock = clock;
  }

  public void reached() {
    outage.set(null);
  }

  public void failed(Throwable error) {
    String reason = String.valueOf(error.getMessage());
    outage.getAndUpdate(current -> current == null ? new Outage(clock.instant(), reason) : new Outage(current.since(), reason));
  }

  public Optional<Outage> outage() {
    return Optional.ofNullable(outage.get());
  }
}
