package io.feedline.dispatcher.endpoint;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.schema.TableSchemas;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a source or sink may use: Vert.x for I/O, and the scheduler of the data lane it runs on, for timers
 * and tasks (tests pass a manual one and drive time by hand). Blocking I/O goes to {@link #blockingIo()}, a
 * worker pool of the endpoint's own, never to the lane's thread.
 *
 * @param metrics the node's registry, for the endpoint's own meters
 * @param changefeed the changefeed the endpoint serves (an endpoint that keeps state downstream or upstream
 *     keys it by this id); empty outside a changefeed (benchmarks, checks)
 * @param schemas the upstream's table definitions: a sink is opened with its changefeed's source here
 * @param checkpoints the cluster's persisted changefeed checkpoints
 */
public record EndpointContext(Vertx vertx, Scheduler scheduler, MeterRegistry metrics, String changefeed, TableSchemas schemas,
    PersistedCheckpoints checkpoints) {

  /** The name (prefix) of the endpoints' blocking I/O pools, as thread names show them. */
  public static final String BLOCKING_IO_POOL = "feedline-io";
  /** Threads of one endpoint's blocking I/O pool: two writes (of different spans) overlap; a thousand endpoints stay affordable. */
  public static final int BLOCKING_IO_THREADS = 2;
  private static final AtomicLong POOLS = new AtomicLong();

  public EndpointContext {
    Objects.requireNonNull(scheduler, "scheduler");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(changefeed, "changefeed");
    Objects.requireNonNull(schemas, "schemas");
    Objects.requireNonNull(checkpoints, "checkpoints");
  }

  /** A context outside any changefeed, with no schemas. */
  public EndpointContext(Vertx vertx, Scheduler scheduler, MeterRegistry metrics) {
    this(vertx, scheduler, metrics, "", TableSchemas.NONE, PersistedCheckpoints.NONE);
  }

  /**
   * A worker pool of the calling endpoint's own for its blocking I/O; the endpoint closes it when it closes.
   * Not {@code vertx.executeBlocking}: called from a data lane, whose context runs on the data plane's worker
   * pool, that parks a thread of the lanes' pool, and with enough such calls every lane of the node. A pool
   * per endpoint, so a sink stuck in its writes (a lock downstream, a hung mount) holds only its own threads:
   * not the lanes, not another changefeed, not its own source, not the next incarnation of its sink.
   */
  public WorkerExecutor blockingIo() {
    return blockingIo(vertx, changefeed);
  }

  /** {@link #blockingIo()} of an endpoint of {@code changefeed} (empty outside any changefeed). */
  public static WorkerExecutor blockingIo(Vertx vertx, String changefeed) {
    return vertx.createSharedWorkerExecutor(BLOCKING_IO_POOL + (changefeed.isEmpty() ? "" : "-" + changefeed) + "-" + POOLS.incrementAndGet(),
        BLOCKING_IO_THREADS);
  }

  public EndpointContext forChangefeed(String id) {
    return new EndpointContext(vertx, scheduler, metrics, id, schemas, checkpoints);
  }

  public EndpointContext withSchemas(TableSchemas upstream) {
    return new EndpointContext(vertx, scheduler, metrics, changefeed, upstream, checkpoints);
  }

  public EndpointContext withCheckpoints(PersistedCheckpoints persisted) {
    return new EndpointContext(vertx, scheduler, metrics, changefeed, schemas, persisted);
  }
}
