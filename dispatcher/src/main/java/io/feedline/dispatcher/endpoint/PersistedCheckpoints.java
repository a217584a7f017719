package io.feedline.dispatcher.endpoint;

import io.vertx.core.Future;
import java.util.OptionalLong;

/**
 * The checkpoints the cluster has persisted per changefeed, for an endpoint that keeps state upstream back
 * to them (a PostgreSQL source's replication slot holds exactly the WAL from the persisted checkpoint on:
 * every span of the changefeed resumes at or above it, whatever node it moves to).
 */
@FunctionalInterface
public interface PersistedCheckpoints {

  /** Where nothing is persisted (tests, benchmarks, checks): an endpoint keeps what it has. */
  PersistedCheckpoints NONE = changefeed -> Future.succeededFuture(OptionalLong.empty());

  /** The changefeed's persisted checkpoint; empty when it has none (yet). May complete on any thread. */
  Future<OptionalLong> of(String changefeed);
}
