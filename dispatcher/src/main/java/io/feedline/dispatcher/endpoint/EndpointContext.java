package io.feedline.dispatcher.endpoint;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.schema.TableSchemas;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.util.Objects;

/**
 * What a source or sink may use: Vert.x for I/O, and the scheduler of the data lane it runs on, for timers
 * and tasks (tests pass a manual one and drive time by hand). Blocking I/O goes to a worker pool of the
 * sink's own, never to the lane's thread.
 *
 * @param metrics the node's registry, for the endpoint's own meters
 * @param changefeed the changefeed the endpoint serves (an endpoint that keeps state downstream or upstream
 *     keys it by this id); empty outside a changefeed (benchmarks, checks)
 * @param schemas the upstream's table definitions: a sink is opened with its changefeed's source here
 * @param checkpoints the cluster's persisted changefeed checkpoints
 */
public record EndpointContext(Vertx vertx, Scheduler scheduler, MeterRegistry metrics, String changefeed, TableSchemas schemas,
    PersistedCheckpoints checkpoints) {

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
