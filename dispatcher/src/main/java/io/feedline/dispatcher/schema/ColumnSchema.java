package io.feedline.dispatcher.schema;

import java.util.Objects;

/**
 * One column of a {@link TableSchema}.
 *
 * @param type the upstream's SQL type as it spells it ({@code BIGINT}, {@code VARCHAR(24)},
 *     {@code character varying(24)}, {@code numeric(10,2)} ...); a sink maps it to its own or refuses it
 */
public record ColumnSchema(String name, String type, boolean nullable) {

  public ColumnSchema {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
  }
}
