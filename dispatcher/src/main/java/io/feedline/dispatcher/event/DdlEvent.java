package io.feedline.dispatcher.event;

import java.util.Objects;

/** A schema change of one table, with the statement that made it. */
public record DdlEvent(long tableId, long commitTs, Type type, String query) implements ChangeEvent {

  public enum Type {
    CREATE_TABLE,
    DROP_TABLE,
    TRUNCATE_TABLE,
    ADD_COLUMN
  }

  public DdlEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(query, "query");
  }
}
