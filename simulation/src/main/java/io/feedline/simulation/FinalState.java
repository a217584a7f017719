package io.feedline.simulation;

import io.feedline.dispatcher.check.ChangeLine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A table's rows as a database ends up holding them when change events are applied in a given order: the source's
 * order, or the order a downstream accepted writes in. A zombie that overwrote a newer value with an older one leaves
 * a different final state even when every event is present (which a set comparison cannot see).
 */
final class FinalState {

  private FinalState() {}

  /** The first row (or table) whose final state differs. */
  record Difference(long table, String key, String what) {}

  /** How the downstream's final state at {@code until}, applied in the order written, differs from the source's; empty if it does not. */
  static Optional<Difference> diff(List<ChangeLine> source, List<ChangeLine> written, long until) {
    Map<Long, Map<String, String>> want = apply(source, until);
    Map<Long, Map<String, String>> have = apply(written, until);
    for (Map.Entry<Long, Map<String, String>> table : want.entrySet()) {
      Map<String, String> rows = have.getOrDefault(table.getKey(), Map.of());
      for (Map.Entry<String, String> row : table.getValue().entrySet()) {
        if (!row.getValue().equals(rows.get(row.getKey()))) {
          return Optional.of(new Difference(table.getKey(), row.getKey(),
              "table " + table.getKey() + " key " + row.getKey() + ": want " + row.getValue() + ", have " + rows.get(row.getKey())));
        }
      }
    }
    for (Map.Entry<Long, Map<String, String>> table : have.entrySet()) {
      Map<String, String> rows = want.getOrDefault(table.getKey(), Map.of());
      for (Map.Entry<String, String> row : table.getValue().entrySet()) {
        if (!rows.containsKey(row.getKey())) {
          return Optional.of(new Difference(table.getKey(), row.getKey(),
              "table " + table.getKey() + " key " + row.getKey() + ": want no row, have " + row.getValue()));
        }
      }
    }
    return Optional.empty();
  }

  private static Map<Long, Map<String, String>> apply(List<ChangeLine> events, long until) {
    Map<Long, Map<String, String>> tables = new TreeMap<>();
    for (ChangeLine e : events) {
      if (e.commitTs() > until) {
        continue;
      }
      Map<String, String> rows = tables.computeIfAbsent(e.table(), t -> new HashMap<>());
      if (e.isDdl()) {
        if (e.ddl().equals("TRUNCATE_TABLE") || e.ddl().equals("DROP_TABLE")) {
          rows.clear();
        }
      } else if (e.op().equals("DELETE")) {
        rows.remove(e.key());
      } else {
        rows.put(e.key(), e.line());
      }
    }
    tables.values().removeIf(Map::isEmpty);
    return tables;
  }
}
