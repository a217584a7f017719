package io.feedline.dispatcher.check;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The differences a check found between a sink and its source over {@code (from, until]}, or between two
 * databases as they are now ({@link #ofDatabases}).
 *
 * @param events distinct source events in the window
 * @param rows rows the source's tables hold at {@code until}
 * @param ddls source DDLs in the window
 * @param missingDdls the DDLs (for two databases: the tables) the sink lacks
 * @param scope what was compared, when it is not a window of the source's history: then there are no events
 *     nor DDLs, and tables stand where DDLs do
 */
public record CheckReport(long from, long until, long events, long rows, long ddls, List<TableDiff> tables, List<String> missingDdls,
    List<String> extraDdls, String scope) {

  /** At most this many examples of each kind of difference are printed per table. */
  public static final int EXAMPLES = 10;

  public CheckReport {
    tables = List.copyOf(tables);
    missingDdls = List.copyOf(missingDdls);
    extraDdls = List.copyOf(extraDdls);
  }

  /** A comparison over a window of the source's history. */
  public CheckReport(long from, long until, long events, long rows, long ddls, List<TableDiff> tables, List<String> missingDdls,
      List<String> extraDdls) {
    this(from, until, events, rows, ddls, tables, missingDdls, extraDdls, null);
  }

  /** Two databases' tables as both hold them now. */
  public static CheckReport ofDatabases(long rows, int compared, List<TableDiff> tables, List<String> missingTables) {
    return new CheckReport(0, 0, 0, rows, 0, tables, missingTables, List.of(),
        "in " + compared + " tables, as both databases hold them now");
  }

  public boolean equal() {
    return tables.isEmpty() && missingDdls.isEmpty() && extraDdls.isEmpty();
  }

  /** The report as text: a summary line, then each difference (examples capped per kind). */
  public String render() {
    StringBuilder out = new StringBuilder();
    String where = scope != null ? scope : "in (" + from + ", " + until + "]";
    if (equal()) {
      out.append("equal: ").append(rows).append(" rows");
      if (scope == null) {
        out.append(", ").append(events).append(" events, ").append(ddls).append(" DDLs");
      }
      out.append(' ').append(where).append('\n');
      return out.toString();
    }
    out.append("DIFFERENT ").append(where).append('\n');
    for (TableDiff t : tables) {
      out.append("table ").append(t.table()).append(": ").append(t.missingRows().size()).append(" missing, ")
          .append(t.extraRows().size()).append(" extra, ").append(t.wrongRows().size()).append(" wrong rows; ")
          .append(t.missingChanges().size()).append(" missing, ").append(t.extraChanges().size()).append(" extra changes\n");
      examples(out, "  missing row ", t.missingRows());
      examples(out, "  extra row ", t.extraRows());
      examples(out, "  wrong row ", t.wrongRows());
      examples(out, "  missing change ", t.missingChanges());
      examples(out, "  extra change ", t.extraChanges());
    }
    if (!missingDdls.isEmpty() || !extraDdls.isEmpty()) {
      String kind = scope == null ? "DDL" : "table";
      out.append(kind).append("s: ").append(missingDdls.size()).append(" missing, ").append(extraDdls.size()).append(" extra\n");
      examples(out, "  missing " + kind + " ", missingDdls);
      examples(out, "  extra " + kind + " ", extraDdls);
    }
    return out.toString();
  }

  private static void examples(StringBuilder out, String prefix, List<String> items) {
    items.stream().limit(EXAMPLES).forEach(i -> out.append(prefix).append(i).append('\n'));
    if (items.size() > EXAMPLES) {
      out.append(prefix.stripTrailing()).append(": ").append(items.size() - EXAMPLES).append(" more\n");
    }
  }

  /** The differences of one table; rows are shown as {@code key=<k> <values>}. */
  public record TableDiff(long table, List<String> missingRows, List<String> extraRows, List<String> wrongRows,
      List<String> missingChanges, List<String> extraChanges) {

    public boolean isEmpty() {
      return missingRows.isEmpty() && extraRows.isEmpty() && wrongRows.isEmpty() && missingChanges.isEmpty() && extraChanges.isEmpty();
    }

    /** Collects one table's differences, for checks outside this package (a database against a database). */
    public static final class Builder {
      private final long table;
      private final List<String> missingRows = new ArrayList<>();
      private final List<String> extraRows = new ArrayList<>();
      private final List<String> wrongRows = new ArrayList<>();
      private final List<String> missingChanges = new ArrayList<>();
      private final List<String> extraChanges = new ArrayList<>();

      public Builder(long table) {
        this.table = table;
      }

      public void missingRow(String key, JsonObject expected) {
        missingRows.add("key=" + key + " " + expected.encode());
      }

      public void extraRow(String key, JsonObject actual) {
        extraRows.add("key=" + key + " " + actual.encode());
      }

      public void wrongRow(String key, JsonObject expected, JsonObject actual) {
        wrongRows.add("key=" + key + " expected " + expected.encode() + " but sink has " + actual.encode());
      }

      void missingChange(String e) {
        missingChanges.add(e);
      }

      void extraChange(String e) {
        extraChanges.add(e);
      }

      public TableDiff build() {
        return new TableDiff(table, List.copyOf(missingRows), List.copyOf(extraRows), List.copyOf(wrongRows), List.copyOf(missingChanges),
            List.copyOf(extraChanges));
      }
    }
  }
}
