package io.feedline.dispatcher.schema;

import java.util.List;
import java.util.Objects;

/**
 * A table as the upstream defines it at some position: what a sink needs to create it downstream and to
 * write its rows idempotently.
 *
 * @param name the table's name upstream (unqualified)
 * @param columns in upstream column order
 * @param primaryKey the names of the primary key columns, in key order; empty when the table has none
 */
public record TableSchema(long tableId, String name, List<ColumnSchema> columns, List<String> primaryKey) {

  public TableSchema {
    Objects.requireNonNull(name, "name");
    columns = List.copyOf(columns);
    primaryKey = List.copyOf(primaryKey);
    for (String key : primaryKey) {
      if (columns.stream().noneMatch(c -> c.name().equals(key))) {
        throw new IllegalArgumentException("primary key column " + key + " is not a column of " + name);
      }
    }
  }

  public ColumnSchema column(String columnName) {
    return columns.stream().filter(c -> c.name().equals(columnName)).findFirst().orElse(null);
  }
}
