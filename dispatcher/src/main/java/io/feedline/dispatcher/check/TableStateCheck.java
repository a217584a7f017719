package io.feedline.dispatcher.check;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares the tables a database sink holds with a datagen source replayed to the checkpoints the sink
 * recorded with them (DESIGN §9.5). A database keeps only each row's final state, in the order it applied
 * the writes, so this compares final states: an overwrite by a zombie (an older version over a newer one)
 * shows as a wrong row, which no log of events could show.
 *
 * <p>What the database must hold, exactly: a DDL is applied iff its ts is at or below the table trigger's
 * recorded checkpoint (it commits with that checkpoint); a row change iff its ts is at or below the
 * checkpoint of the span holding its key (the highest among the span shapes recorded for that key: a
 * span split later starts from its parent's checkpoint). Nothing else is assumed: a changefeed need not be
 * quiet to be checked. With {@code until}, every change up to it is expected instead: for a source that
 * stopped there (datagen's {@code until}) and a changefeed that has caught up with it.
 */
public final class TableStateCheck {

  /** A span shape's recorded checkpoint ({@code end} empty: to the end of the table). */
  public record SpanCheckpoint(long table, ByteString start, ByteString end, long checkpointTs) {

    boolean covers(ByteString key) {
      return ByteString.unsignedLexicographicalComparator().compare(start, key) <= 0
          && (end.isEmpty() || ByteString.unsignedLexicographicalComparator().compare(key, end) < 0);
    }
  }

  /**
   * @param from changes at or below it are not expected (the changefeed started there)
   * @param triggerCheckpoint the table trigger's recorded checkpoint: DDLs up to it are applied
   * @param spans the recorded span checkpoints of every table (table 0 excluded)
   * @param actual per table id, its rows by key as column name to text value (null for SQL NULL); a table
   *     missing downstream is absent from the map
   */
  public static CheckReport compare(DatagenSpec spec, long from, long triggerCheckpoint, List<SpanCheckpoint> spans,
      Map<Long, Map<Long, Map<String, String>>> actual, OptionalLong until) {
    DatagenModel model = DatagenModel.of(spec);
    TickTimeline timeline = model.timeline();
    Map<Long, List<SpanCheckpoint>> byTable = new HashMap<>();
    spans.forEach(s -> byTable.computeIfAbsent(s.table(), t -> new ArrayList<>()).add(s));
    long ddlUpTo = until.orElse(triggerCheckpoint);
    long rowsUpTo = until.isPresent() ? until.getAsLong() : spans.stream().mapToLong(SpanCheckpoint::checkpointTs).max().orElse(from);
    long last = timeline.lastTickAtOrBelow(Math.max(ddlUpTo, rowsUpTo));
    long first = timeline.lastTickAtOrBelow(from) + 1;
    if (Math.max(0, last - first + 1) > DatagenReplay.MAX_WORK / model.tables()) {
      throw new IllegalArgumentException("replaying (" + from + ", " + Math.max(ddlUpTo, rowsUpTo) + "] of " + model.tables()
          + " tables is too much work");
    }

    Map<Long, Map<Long, Map<String, Object>>> want = new TreeMap<>();
    Map<Long, Boolean> exists = new HashMap<>();
    long events = 0;
    long ddls = 0;
    for (long tick = first; tick <= last; tick++) {
      long ts = timeline.commitTs(tick);
      DdlEvent ddl = model.ddlAt(tick);
      if (ddl != null) {
        if (ts <= ddlUpTo) {
          ddls++;
          events++;
          exists.put(ddl.tableId(), ddl.type() != DdlEvent.Type.DROP_TABLE);
          if (ddl.type() != DdlEvent.Type.ADD_COLUMN) {
            want.computeIfAbsent(ddl.tableId(), t -> new TreeMap<>()).clear();
          }
        }
        continue;
      }
      for (long table = 1; table <= model.tables(); table++) {
        for (RowChange row : model.rowsAt(table, tick)) {
          if (ts > (until.isPresent() ? until.getAsLong() : checkpointOf(byTable.get(table), row.key(), from))) {
            continue;
          }
          events++;
          Map<Long, Map<String, Object>> rows = want.computeIfAbsent(table, t -> new TreeMap<>());
          if (row.op() == RowChange.Op.DELETE) {
            rows.remove(DatagenModel.id(row.key()));
          } else {
            rows.put(DatagenModel.id(row.key()), row.after());
          }
        }
      }
    }
    Map<Long, CheckReport.TableDiff.Builder> diffs = new TreeMap<>();
    List<String> missingTables = new ArrayList<>();
    List<String> extraTables = new ArrayList<>();
    TreeSet<Long> tables = new TreeSet<>(want.keySet());
    tables.addAll(actual.keySet());
    tables.addAll(exists.keySet());
    long rowCount = 0;
    for (long table : tables) {
      Map<Long, Map<String, Object>> w = want.getOrDefault(table, Map.of());
      Map<Long, Map<String, String>> h = actual.get(table);
      rowCount += w.size();
      if (h == null) {
        // Absent downstream: right when dropped, or when it existed before the start and nothing of it was written yet.
        if (Boolean.TRUE.equals(exists.get(table))) {
          missingTables.add("table " + table + " (created upstream at or below ts " + ddlUpTo + ")");
        }
        h = Map.of();
      } else if (Boolean.FALSE.equals(exists.get(table))) {
        extraTables.add("table " + table + " (dropped upstream at or below ts " + ddlUpTo + ")");
      }
      CheckReport.TableDiff.Builder diff = diffs.computeIfAbsent(table, CheckReport.TableDiff.Builder::new);
      for (Map.Entry<Long, Map<String, Object>> row : w.entrySet()) {
        Map<String, String> got = h.get(row.getKey());
        if (got == null) {
          diff.missingRow(String.valueOf(row.getKey()), json(row.getValue()));
        } else if (!got.equals(asText(row.getValue(), got))) {
          diff.wrongRow(String.valueOf(row.getKey()), json(row.getValue()), json(got));
        }
      }
      for (Map.Entry<Long, Map<String, String>> row : h.entrySet()) {
        if (!w.containsKey(row.getKey())) {
          diff.extraRow(String.valueOf(row.getKey()), json(row.getValue()));
        }
      }
    }
    List<CheckReport.TableDiff> found = diffs.values().stream().map(CheckReport.TableDiff.Builder::build).filter(d -> !d.isEmpty()).toList();
    return new CheckReport(from, Math.max(ddlUpTo, rowsUpTo), events, rowCount, ddls, found, missingTables, extraTables);
  }

  /** The checkpoint of the span holding {@code key}: the highest of the shapes recorded for it, else {@code from}. */
  private static long checkpointOf(List<SpanCheckpoint> spans, ByteString bytes, long from) {
    if (spans == null) {
      return from;
    }
    long best = from;
    for (SpanCheckpoint s : spans) {
      if (s.checkpointTs() > best && s.covers(bytes)) {
        best = s.checkpointTs();
      }
    }
    return best;
  }

  /**
   * The expected row in the text form a database gives back. Columns the downstream table has beyond the
   * source's (added later in the table's life, NULL in older rows) count as expected NULL.
   */
  private static Map<String, String> asText(Map<String, Object> row, Map<String, String> actual) {
    Map<String, String> out = new HashMap<>();
    actual.keySet().forEach(c -> out.put(c, null));
    row.forEach((c, v) -> out.put(c, v == null ? null : v.toString()));
    return out;
  }

  private static JsonObject json(Map<String, ?> row) {
    return new JsonObject(new LinkedHashMap<>(row));
  }

  private TableStateCheck() {}
}
