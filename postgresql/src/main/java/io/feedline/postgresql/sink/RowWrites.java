package io.feedline.postgresql.sink;

import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The row changes of one table in one batch as statements: reduced to their net effect per primary key
 * (the last change of a key wins, in commit order), then one multi-row upsert per column set and one
 * multi-row delete. Rows travel as {@code text[]} arrays through {@code unnest}, so a statement's text
 * depends only on the table and its columns: prepared once, reused for every batch.
 *
 * <p>Replaying these statements is harmless: an upsert of a row's image and a delete of a key give the
 * same table however often they run, which is what makes a re-send after a crash or an ambiguous commit
 * safe.
 */
final class RowWrites {

  /** A change names a column the downstream table lacks: look the table up again (another node may have altered it). */
  static final class UnknownColumnException extends RuntimeException {
    UnknownColumnException(String message) {
      super(message, null, false, false);
    }
  }

  private RowWrites() {}

  static List<Statement> of(DownstreamTable table, List<RowChange> changes) {
    Map<List<String>, Map<String, Object>> net = new LinkedHashMap<>();
    for (RowChange change : changes) {
      switch (change.op()) {
        case INSERT -> net.put(key(table, change.after()), change.after());
        case UPDATE -> {
          List<String> after = key(table, change.after());
          if (!change.before().isEmpty()) {
            List<String> before = key(table, change.before());
            if (!before.equals(after)) {
              net.put(before, null); // the key itself changed: the old row goes
            }
          }
          // An update's image may leave out columns it did not change (PostgreSQL does not log an unchanged
          // TOASTed value): on top of the row this batch already holds, they keep that row's values; a row
          // only downstream keeps its own, since the upsert sets only the columns the image has.
          Map<String, Object> prior = net.get(after);
          if (prior != null && !change.after().keySet().containsAll(prior.keySet())) {
            Map<String, Object> merged = new LinkedHashMap<>(prior);
            merged.putAll(change.after());
            net.put(after, merged);
          } else {
            net.put(after, change.after());
          }
        }
        case DELETE -> net.put(key(table, change.before().isEmpty() ? change.after() : change.before()), null);
      }
    }
    List<Statement> out = new ArrayList<>();
    List<List<String>> deletes = new ArrayList<>();
    Map<List<String>, List<Map<String, Object>>> upserts = new LinkedHashMap<>();
    for (Map.Entry<List<String>, Map<String, Object>> e : net.entrySet()) {
      if (e.getValue() == null) {
        deletes.add(e.getKey());
      } else {
        upserts.computeIfAbsent(List.copyOf(e.getValue().keySet()), c -> new ArrayList<>()).add(e.getValue());
      }
    }
    if (!deletes.isEmpty()) {
      out.add(delete(table, deletes));
    }
    upserts.forEach((columns, rows) -> out.add(upsert(table, columns, rows)));
    return out;
  }

  private static List<String> key(DownstreamTable table, Map<String, Object> image) {
    List<String> key = new ArrayList<>(table.primaryKey().size());
    for (String column : table.primaryKey()) {
      if (!image.containsKey(column) || image.get(column) == null) {
        throw new UnwritableSchemaException("a change of table " + table.name() + " carries no value for its primary key column " + column);
      }
      key.add(SqlText.value(image.get(column)));
    }
    return key;
  }

  private static Statement upsert(DownstreamTable table, List<String> columns, List<Map<String, Object>> rows) {
    List<String> casts = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    Tuple params = Tuple.tuple();
    for (int i = 0; i < columns.size(); i++) {
      String column = columns.get(i);
      casts.add("u.c" + i + "::" + PostgresTypes.baseOf(typeOf(table, column)));
      arrays.add("$" + (i + 1) + "::text[]");
      String[] values = new String[rows.size()];
      for (int r = 0; r < rows.size(); r++) {
        values[r] = SqlText.value(rows.get(r).get(column));
      }
      params.addValue(values);
    }
    List<String> updates = columns.stream().filter(c -> !table.primaryKey().contains(c))
        .map(c -> SqlText.ident(c) + " = EXCLUDED." + SqlText.ident(c)).toList();
    String sql = "INSERT INTO " + table.qualifiedName() + " (" + columns.stream().map(SqlText::ident).collect(Collectors.joining(", "))
        + ") SELECT " + String.join(", ", casts) + " FROM unnest(" + String.join(", ", arrays) + ") AS u(" + aliases(columns.size())
        + ") ON CONFLICT (" + table.primaryKey().stream().map(SqlText::ident).collect(Collectors.joining(", ")) + ") DO "
        + (updates.isEmpty() ? "NOTHING" : "UPDATE SET " + String.join(", ", updates));
    return new Statement(sql, params);
  }

  private static Statement delete(DownstreamTable table, List<List<String>> keys) {
    List<String> pk = table.primaryKey();
    List<String> match = new ArrayList<>();
    List<String> arrays = new ArrayList<>();
    Tuple params = Tuple.tuple();
    for (int i = 0; i < pk.size(); i++) {
      match.add("t." + SqlText.ident(pk.get(i)) + " = u.c" + i + "::" + PostgresTypes.baseOf(typeOf(table, pk.get(i))));
      arrays.add("$" + (i + 1) + "::text[]");
      String[] values = new String[keys.size()];
      for (int r = 0; r < keys.size(); r++) {
        values[r] = keys.get(r).get(i);
      }
      params.addValue(values);
    }
    String sql = "DELETE FROM " + table.qualifiedName() + " AS t USING unnest(" + String.join(", ", arrays) + ") AS u("
        + aliases(pk.size()) + ") WHERE " + String.join(" AND ", match);
    return new Statement(sql, params);
  }

  private static String typeOf(DownstreamTable table, String column) {
    String type = table.columns().get(column);
    if (type == null) {
      throw new UnknownColumnException("the downstream table " + table.schema() + "." + table.name() + " has no column " + column);
    }
    return type;
  }

  private static String aliases(int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add("c" + i);
    }
    return String.join(", ", out);
  }
}
