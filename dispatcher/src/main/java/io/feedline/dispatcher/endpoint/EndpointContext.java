package io.feedline.dispatcher.endpoint;

import io.feedline.common.time.Scheduler;
import io.vertx.core.Vertx;

/**
 * What a source or sink may use: Vert.x for blocking I/O on worker threads, and the scheduler of the
 * dispatcher manager's context for timers (so tests drive time by hand).
 */
public record EndpointContext(Vertx vertx, Scheduler scheduler) {}
