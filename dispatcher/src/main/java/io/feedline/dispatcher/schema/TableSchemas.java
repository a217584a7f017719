package io.feedline.dispatcher.schema;

import io.vertx.core.Future;

/**
 * The upstream's table definitions by position, which a source knows and a sink that creates tables needs
 * (a table created before the changefeed started has no CREATE TABLE event to create it from).
 */
@FunctionalInterface
public interface TableSchemas {

  /** For endpoints that have no schemas to offer (a sink opened without a source, a source's own context). */
  TableSchemas NONE = (tableId, ts) -> Future.failedFuture(new UnknownTableException(tableId, ts, "no upstream schemas are available here"));

  /**
   * The definition of {@code tableId} as of the events committed at or below {@code ts}. Fails with
   * {@link UnknownTableException} when the table does not exist there.
   */
  Future<TableSchema> schemaAt(long tableId, long ts);
}
