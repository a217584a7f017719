package io.feedline.dispatcher.endpoint;

import io.feedline.common.time.Scheduler;
import io.vertx.core.Vertx;

/**
 * What a source or sink may use: Vert.x for I/O, and the scheduler of the data lane it runs on, for timers
 * and tasks (tests pass a manual one and drive time by hand). Blocking I/O goes to a worker pool of the
 * sink's own, never to the lane's thread.
 */
public record EndpointContext(Vertx vertx, Scheduler scheduler) {}
