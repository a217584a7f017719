package io.feedline.dispatcher.check;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares what a sink holds with what the source says it should hold, over the window {@code (from,
 * until]} (DESIGN §9.5: downstream content equals the source replayed to the checkpoint). Pure: both sides
 * come in as change events in the file sink's JSON line format ({@code commitTs}, {@code table}, and either
 * {@code op}/{@code key}/{@code before}/{@code after} for a row or {@code ddl}/{@code query} for a DDL).
 *
 * <p>De-duplication. Delivery is at least once above a checkpoint: a restarted writer rewrites what lay
 * beyond its checkpoint, and a writer found WRITING by a new maintainer writes its DDL again, so the sink
 * may hold an event several times and out of commit-ts order. An event is identified by its whole content
 * (an upstream never changes one key twice, nor commits two DDLs, at one ts), so the sink side is reduced
 * to its set of distinct events, and both sides are compared as:
 * <ul>
 *   <li><b>rows</b>: the final state of each table at {@code until}, by applying the distinct events in
 *       commit-ts order (insert/update put the after image, delete removes the key, TRUNCATE and DROP
 *       empty the table) — what a database downstream would hold. A key the source has and the sink not is
 *       <i>missing</i>, the reverse <i>extra</i>, a key with other values <i>wrong</i>;</li>
 *   <li><b>changes</b>: the distinct row events themselves, which also catches an intermediate change that
 *       was lost but later overwritten;</li>
 *   <li><b>DDLs</b>: the distinct DDL events.</li>
 * </ul>
 * Events outside the window are ignored on both sides: what a sink holds above its checkpoint is not
 * yet promised.
 */
public final class ConsistencyCheck {

  private ConsistencyCheck() {}

  /**
   * @param expected the source's events in {@code (from, until]} (others are ignored)
   * @param actual everything the sink holds, in any order, duplicates allowed
   */
  public static CheckReport compare(List<JsonObject> expected, List<JsonObject> actual, long from, long until) {
    Set<JsonObject> want = window(expected, from, until);
    Set<JsonObject> have = window(actual, from, until);

    Map<Long, CheckReport.TableDiff.Builder> tables = new TreeMap<>();
    Map<Long, Map<Long, JsonObject>> wantState = finalState(want);
    Map<Long, Map<Long, JsonObject>> haveState = finalState(have);
    Set<Long> tableIds = new TreeSet<>(wantState.keySet());
    tableIds.addAll(haveState.keySet());
    for (long table : tableIds) {
      Map<Long, JsonObject> w = wantState.getOrDefault(table, Map.of());
      Map<Long, JsonObject> h = haveState.getOrDefault(table, Map.of());
      CheckReport.TableDiff.Builder diff = tables.computeIfAbsent(table, CheckReport.TableDiff.Builder::new);
      for (Map.Entry<Long, JsonObject> row : w.entrySet()) {
        JsonObject got = h.get(row.getKey());
        if (got == null) {
          diff.missingRow(row.getKey(), row.getValue());
        } else if (!got.equals(row.getValue())) {
          diff.wrongRow(row.getKey(), row.getValue(), got);
        }
      }
      for (Map.Entry<Long, JsonObject> row : h.entrySet()) {
        if (!w.containsKey(row.getKey())) {
          diff.extraRow(row.getKey(), row.getValue());
        }
      }
    }

    List<JsonObject> missingDdls = new ArrayList<>();
    List<JsonObject> extraDdls = new ArrayList<>();
    for (JsonObject e : sorted(want)) {
      if (!have.contains(e)) {
        if (isDdl(e)) {
          missingDdls.add(e);
        } else {
          tables.computeIfAbsent(table(e), CheckReport.TableDiff.Builder::new).missingChange(e);
        }
      }
    }
    for (JsonObject e : sorted(have)) {
      if (!want.contains(e)) {
        if (isDdl(e)) {
          extraDdls.add(e);
        } else {
          tables.computeIfAbsent(table(e), CheckReport.TableDiff.Builder::new).extraChange(e);
        }
      }
    }
    List<CheckReport.TableDiff> diffs = tables.values().stream().map(CheckReport.TableDiff.Builder::build)
        .filter(d -> !d.isEmpty()).toList();
    long rows = wantState.values().stream().mapToLong(Map::size).sum();
    long ddls = want.stream().filter(ConsistencyCheck::isDdl).count();
    return new CheckReport(from, until, want.size(), rows, ddls, diffs, missingDdls, extraDdls);
  }

  /** The distinct events in {@code (from, until]}. */
  private static Set<JsonObject> window(List<JsonObject> events, long from, long until) {
    Set<JsonObject> out = new LinkedHashSet<>();
    for (JsonObject e : events) {
      long ts = commitTs(e);
      if (ts > from && ts <= until) {
        out.add(e);
      }
    }
    return out;
  }

  private static List<JsonObject> sorted(Set<JsonObject> events) {
    List<JsonObject> out = new ArrayList<>(events);
    // Within one ts a DDL sorts first (it never shares a ts with rows of its table), then rows by key.
    out.sort(Comparator.comparingLong(ConsistencyCheck::commitTs).thenComparing(e -> isDdl(e) ? 0 : 1)
        .thenComparingLong(ConsistencyCheck::table).thenComparingLong(e -> isDdl(e) ? 0 : e.getLong("key")));
    return out;
  }

  private static Map<Long, Map<Long, JsonObject>> finalState(Set<JsonObject> events) {
    Map<Long, Map<Long, JsonObject>> tables = new LinkedHashMap<>();
    for (JsonObject e : sorted(events)) {
      Map<Long, JsonObject> rows = tables.computeIfAbsent(table(e), t -> new TreeMap<>());
      if (isDdl(e)) {
        String type = e.getString("ddl");
        if ("TRUNCATE_TABLE".equals(type) || "DROP_TABLE".equals(type) || "CREATE_TABLE".equals(type)) {
          rows.clear();
        }
        continue;
      }
      long key = e.getLong("key");
      if ("DELETE".equals(e.getString("op"))) {
        rows.remove(key);
      } else {
        rows.put(key, Objects.requireNonNullElseGet(e.getJsonObject("after"), JsonObject::new));
      }
    }
    return tables;
  }

  static boolean isDdl(JsonObject e) {
    return e.containsKey("ddl");
  }

  static long commitTs(JsonObject e) {
    return e.getLong("commitTs");
  }

  static long table(JsonObject e) {
    return e.getLong("table");
  }
}
