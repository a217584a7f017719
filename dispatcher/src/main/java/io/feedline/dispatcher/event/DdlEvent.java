package io.feedline.dispatcher.event;

import java.util.Objects;

/**
 * A schema change of one table, with the statement that made it.
 *
 * @param tableName the table's name (for a CREATE TABLE, the name the new table is added under)
 * @param column for an ADD or DROP COLUMN, the column's name when the source knows it (a sink drops exactly that
 *     one); else null
 */
public record DdlEvent(long tableId, long commitTs, Type type, String tableName, String query, String column) implements ChangeEvent {

  public enum Type {
    CREATE_TABLE,
    DROP_TABLE,
    TRUNCATE_TABLE,
    ADD_COLUMN,
    DROP_COLUMN
  }

  public DdlEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(tableName, "tableName");
    Objects.requireNonNull(query, "query");
  }

  /** A schema change that names no column. */
  public DdlEvent(long tableId, long commitTs, Type type, String tableName, String query) {
    this(tableId, commitTs, type, tableName, query, null);
  }
}
