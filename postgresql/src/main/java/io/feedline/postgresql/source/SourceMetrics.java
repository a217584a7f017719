package io.feedline.postgresql.source;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one changefeed's stream on one node, registered when the source opens (at 0, so alerts
 * see them before the first change) and removed when it closes:
 * <ul>
 *   <li>{@code feedline_source_lag_seconds{changefeed}}: how far behind the upstream this node's stream
 *       reads: how long ago what it last read was written upstream (a transaction's commit, or one of the
 *       stream's heartbeats, which carry the time they were written, so an idle upstream reads 0);</li>
 *   <li>{@code feedline_source_retained_wal_bytes{changefeed}}: the WAL the changefeed's slot holds back
 *       upstream (what an alert on a stuck changefeed should watch: the disk it fills is the upstream's);</li>
 *   <li>{@code feedline_source_stream_restarts_total{changefeed}} and
 *       {@code feedline_source_stream_errors_total{changefeed}}.</li>
 * </ul>
 */
final class SourceMetrics {

  /** PostgreSQL times count microseconds from 2000-01-01 UTC. */
  static final long POSTGRES_EPOCH_MILLIS = 946_684_800_000L;

  private final MeterRegistry registry;
  private final Clock clock;
  private final AtomicLong lastCommitMillis = new AtomicLong();
  private final AtomicLong retainedBytes = new AtomicLong();
  private final Counter restarts;
  private final Counter errors;
  private final List<Meter> meters;

  SourceMetrics(MeterRegistry registry, Clock clock, String changefeed) {
    this.registry = registry;
    this.clock = clock;
    Gauge lag = Gauge.builder("feedline.source.lag", this, SourceMetrics::lagSeconds).tag("changefeed", changefeed).baseUnit("seconds")
        .description("How long ago what this node's stream read last was written upstream").register(registry);
    Gauge retained = Gauge.builder("feedline.source.retained.wal", retainedBytes, AtomicLong::get).tag("changefeed", changefeed)
        .baseUnit("bytes").description("WAL the changefeed's replication slot holds back upstream").register(registry);
    restarts = Counter.builder("feedline.source.stream.restarts").tag("changefeed", changefeed)
        .description("Times this node's stream restarted at an older position for a span that needed it").register(registry);
    errors = Counter.builder("feedline.source.stream.errors").tag("changefeed", changefeed)
        .description("Failures of this node's replication stream (it retries with backoff)").register(registry);
    meters = List.of(lag, retained, restarts, errors);
  }

  void delivered(long commitTimeMicros) {
    lastCommitMillis.accumulateAndGet(POSTGRES_EPOCH_MILLIS + commitTimeMicros / 1000, Math::max);
  }

  /** A heartbeat written upstream at {@code writtenMillis} came back through the stream. */
  void heartbeat(long writtenMillis) {
    lastCommitMillis.accumulateAndGet(writtenMillis, Math::max);
  }

  void retained(long bytes) {
    retainedBytes.set(Math.max(0, bytes));
  }

  void restarted() {
    restarts.increment();
  }

  void failed() {
    errors.increment();
  }

  void close() {
    meters.forEach(registry::remove);
  }

  private double lagSeconds() {
    long last = lastCommitMillis.get();
    return last == 0 ? 0 : Math.max(0, clock.millis() - last) / 1000.0;
  }
}
