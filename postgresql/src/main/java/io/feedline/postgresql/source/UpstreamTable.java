package io.feedline.postgresql.source;

import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import java.util.ArrayList;
import java.util.List;

/**
 * A captured upstream table as the source knows it: from the catalog when the stream starts, then from
 * every {@code Relation} message (which the server sends again after each change of the table's shape).
 *
 * @param oid the table's OID, which is also its Feedline table id: stable for the table's life, new for a
 *     table created again under the same name
 * @param columns in column order; {@link ColumnSchema#type()} as {@code format_type} spells it
 * @param typeOids per column, the type OID
 * @param primaryKey the key columns rows are identified, routed to spans and written downstream by
 */
record UpstreamTable(long oid, String schema, String name, List<ColumnSchema> columns, List<Integer> typeOids, List<String> primaryKey) {

  UpstreamTable {
    columns = List.copyOf(columns);
    typeOids = List.copyOf(typeOids);
    primaryKey = List.copyOf(primaryKey);
  }

  /** How the catalog spells a type ({@code format_type(oid, typmod)}). */
  @FunctionalInterface
  interface TypeNamer {
    String name(int typeOid, int typeModifier);
  }

  String qualifiedName() {
    return schema + "." + name;
  }

  TableSchema toSchema() {
    return new TableSchema(oid, name, columns, primaryKey);
  }

  int columnIndex(String column) {
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i).name().equals(column)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The table after a {@code Relation} message: its columns as the message lists them (types named as the
   * catalog would when the column is one the source knew, else by the message's type OID), the key kept.
   */
  UpstreamTable reshaped(PgOutputMessage.Relation relation, TypeNamer names) {
    List<ColumnSchema> reshaped = new ArrayList<>();
    List<Integer> oids = new ArrayList<>();
    for (PgOutputMessage.Column c : relation.columns()) {
      int known = columnIndex(c.name());
      String type = known >= 0 && typeOids.get(known) == c.typeOid() ? columns.get(known).type() : names.name(c.typeOid(), c.typeModifier());
      boolean nullable = known < 0 || columns.get(known).nullable();
      reshaped.add(new ColumnSchema(c.name(), type, nullable && !primaryKey.contains(c.name())));
      oids.add(c.typeOid());
    }
    return new UpstreamTable(oid, relation.namespace(), relation.name(), reshaped, oids, primaryKey);
  }
}
