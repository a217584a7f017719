package io.feedline.postgresql.sink;

import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A table as it is (or is to be) downstream: its columns with their PostgreSQL types, and its primary key.
 *
 * @param columns column name to type as {@code format_type} spells it, in column order
 */
record DownstreamTable(String schema, String name, Map<String, String> columns, List<String> primaryKey) {

  private static final String LOOKUP = "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
      // int2vector arrays start at 0: the key position comes from WITH ORDINALITY instead
      + "COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)::int "
      + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      + "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
      + "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
      + "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') ORDER BY a.attnum";

  DownstreamTable {
    columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
    primaryKey = List.copyOf(primaryKey);
  }

  /** The table {@code schema.name} as the catalog has it, or null when there is none. */
  static Future<DownstreamTable> lookup(SqlClient client, String schema, String name) {
    return client.preparedQuery(LOOKUP).execute(Tuple.of(schema, name)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Map<String, String> columns = new LinkedHashMap<>();
      Map<Integer, String> key = new TreeMap<>();
      for (Row row : rows) {
        columns.put(row.getString(0), row.getString(1));
        int position = row.getInteger(2);
        if (position > 0) {
          key.put(position, row.getString(0));
        }
      }
      return new DownstreamTable(schema, name, columns, new ArrayList<>(key.values()));
    });
  }

  /**
   * The table the upstream definition {@code upstream} asks for, in {@code schema}.
   *
   * @throws UnwritableSchemaException for a table without primary key or a type with no counterpart
   */
  static DownstreamTable of(String schema, TableSchema upstream) {
    if (upstream.primaryKey().isEmpty()) {
      throw new UnwritableSchemaException("table " + upstream.name() + " has no primary key: its changes cannot be replayed "
          + "idempotently into PostgreSQL (add a primary key upstream, or leave the table out of the changefeed)");
    }
    Map<String, String> columns = new LinkedHashMap<>();
    for (ColumnSchema c : upstream.columns()) {
      columns.put(c.name(), PostgresTypes.toPostgres(c.type(), "column " + c.name() + " of table " + upstream.name()));
    }
    return new DownstreamTable(schema, upstream.name(), columns, upstream.primaryKey());
  }

  String qualifiedName() {
    return SqlText.qualified(schema, name);
  }

  String createStatement() {
    StringBuilder sql = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(qualifiedName()).append(" (");
    for (Map.Entry<String, String> c : columns.entrySet()) {
      sql.append(SqlText.ident(c.getKey())).append(' ').append(c.getValue());
      if (primaryKey.contains(c.getKey())) {
        sql.append(" NOT NULL");
      }
      sql.append(", ");
    }
    sql.append("PRIMARY KEY (").append(String.join(", ", primaryKey.stream().map(SqlText::ident).toList())).append("))");
    return sql.toString();
  }

  /**
   * Why this existing table cannot take the rows of {@code wanted}, or null when it can: it needs a
   * primary key on the same columns, and every wanted column with a type of the same kind.
   */
  String misfit(DownstreamTable wanted) {
    if (primaryKey.isEmpty()) {
      return "the downstream table " + schema + "." + name + " has no primary key (it needs one on " + wanted.primaryKey + ")";
    }
    if (!new java.util.HashSet<>(primaryKey).equals(new java.util.HashSet<>(wanted.primaryKey))) {
      return "the downstream table " + schema + "." + name + " has primary key " + primaryKey + ", the upstream " + wanted.primaryKey;
    }
    for (Map.Entry<String, String> c : wanted.columns.entrySet()) {
      String have = columns.get(c.getKey());
      if (have == null) {
        continue; // a column the upstream added: see missingColumns
      }
      if (!PostgresTypes.baseOf(have).equals(PostgresTypes.baseOf(c.getValue()))) {
        return "column " + c.getKey() + " of the downstream table " + schema + "." + name + " is " + have + ", the upstream's maps to "
            + c.getValue();
      }
    }
    return null;
  }

  /** The columns {@code wanted} defines that this table lacks, in {@code wanted}'s order, with their types. */
  Map<String, String> missingColumns(DownstreamTable wanted) {
    Map<String, String> missing = new LinkedHashMap<>();
    wanted.columns.forEach((column, type) -> {
      if (!columns.containsKey(column)) {
        missing.put(column, type);
      }
    });
    return missing;
  }

  /** This table with {@code added} columns too. */
  DownstreamTable withColumns(Map<String, String> added) {
    Map<String, String> all = new LinkedHashMap<>(columns);
    all.putAll(added);
    return new DownstreamTable(schema, name, all, primaryKey);
  }

  /** Drops {@code dropped}; {@code IF EXISTS}, so a replay of the DDL succeeds. */
  List<Statement> dropColumns(List<String> dropped) {
    return dropped.stream().map(c -> Statement.of("ALTER TABLE " + qualifiedName() + " DROP COLUMN IF EXISTS " + SqlText.ident(c))).toList();
  }

  /** Adds {@code added}; {@code IF NOT EXISTS}, so nodes that add the same column at once all succeed. */
  List<Statement> addColumns(Map<String, String> added) {
    List<Statement> alters = new ArrayList<>();
    added.forEach((column, type) -> alters.add(Statement.of("ALTER TABLE " + qualifiedName() + " ADD COLUMN IF NOT EXISTS "
        + SqlText.ident(column) + " " + type)));
    return alters;
  }
}
