package io.feedline.postgresql.source;

import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import io.vertx.core.json.JsonObject;
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

  /** A table known only from a {@code Relation} message: keyed by the columns it marks as the replica identity. */
  static UpstreamTable of(PgOutputMessage.Relation relation, TypeNamer names) {
    List<String> key = relation.columns().stream().filter(PgOutputMessage.Column::key).map(PgOutputMessage.Column::name).toList();
    List<ColumnSchema> columns = new ArrayList<>();
    List<Integer> oids = new ArrayList<>();
    for (PgOutputMessage.Column c : relation.columns()) {
      columns.add(new ColumnSchema(c.name(), names.name(c.typeOid(), c.typeModifier()), !c.key()));
      oids.add(c.typeOid());
    }
    return new UpstreamTable(relation.oid(), relation.namespace(), relation.name(), columns, oids, key);
  }

  /**
   * A table as the upstream's DDL trigger describes it ({@code feedline_capture.table_definition} in
   * {@code capture-ddl.sql}): {@code schema}, {@code name}, {@code key}, and {@code columns} with {@code name},
   * {@code type}, {@code typeOid} and {@code notNull}.
   */
  static UpstreamTable of(long oid, JsonObject definition) {
    List<ColumnSchema> columns = new ArrayList<>();
    List<Integer> oids = new ArrayList<>();
    for (Object c : definition.getJsonArray("columns")) {
      JsonObject column = (JsonObject) c;
      columns.add(new ColumnSchema(column.getString("name"), column.getString("type"), !column.getBoolean("notNull")));
      oids.add(column.getInteger("typeOid"));
    }
    List<String> key = definition.getJsonArray("key").stream().map(String::valueOf).toList();
    return new UpstreamTable(oid, definition.getString("schema"), definition.getString("name"), columns, oids, key);
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
