package io.feedline.postgresql.source;

import io.feedline.postgresql.source.DdlCapture.HistoryEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which captured tables existed at a past position, from the catalog as it is now and the DDL history
 * ({@code feedline_capture.ddl_history}). A history entry counts as at or below the position only when its recorded
 * position says so (where the changefeed placed its event, else its commit); an entry without one has not been
 * read by any stream yet, so it committed above any position a changefeed has reached (a stream records both
 * before it hands the DDL over, and a changefeed's create bounds the ones that committed before it started).
 */
final class TableHistory {

  /** A table and the name it had at the position. */
  record Table(long oid, String schema, String name) {

    String qualifiedName() {
      return schema + "." + name;
    }
  }

  private TableHistory() {}

  /**
   * @param capturedNow the captured tables the catalog has now (read in the same snapshot as {@code history})
   * @param history every entry, in the order the DDLs ran
   */
  static List<Table> tablesAt(Map<Long, UpstreamTable> capturedNow, List<HistoryEntry> history, TableRules rules, long position) {
    Map<Long, List<HistoryEntry>> byTable = new LinkedHashMap<>();
    for (HistoryEntry e : history) {
      byTable.computeIfAbsent(e.tableOid(), t -> new ArrayList<>()).add(e);
    }
    Map<Long, Table> out = new TreeMap<>();
    capturedNow.forEach((oid, t) -> {
      if (!byTable.containsKey(oid)) {
        out.put(oid, new Table(oid, t.schema(), t.name()));
      }
    });
    byTable.forEach((oid, entries) -> {
      Table table = stateAt(oid, entries, capturedNow.get(oid), rules, position);
      if (table != null) {
        out.put(oid, table);
      }
    });
    return List.copyOf(out.values());
  }

  /** The table at {@code position}, or null when it did not exist or was not captured there. */
  private static Table stateAt(long oid, List<HistoryEntry> entries, UpstreamTable now, TableRules rules, long position) {
    HistoryEntry last = null;
    for (HistoryEntry e : entries) {
      if (e.position() >= 0 && e.position() <= position) {
        last = e;
      }
    }
    if (last != null) {
      return !last.drops() && last.keyed() && rules.captures(last.schema(), last.name()) ? new Table(oid, last.schema(), last.name()) : null;
    }
    HistoryEntry first = entries.get(0);
    if (first.creates()) {
      return null; // born later
    }
    // Older than its history: it existed, under the name its first recorded change found. Whether its rows could
    // be identified then is not recorded; a table dropped since is taken as captured, another as it is now.
    boolean captured = rules.captures(first.schema(), first.name()) && (first.drops() || now != null);
    return captured ? new Table(oid, first.schema(), first.name()) : null;
  }
}
