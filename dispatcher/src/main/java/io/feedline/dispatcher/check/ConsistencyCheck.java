package io.feedline.dispatcher.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares what a sink holds with what the source says it should hold, over the window {@code (from,
 * until]} (DESIGN §9.5: downstream content equals the source replayed to the checkpoint). Pure: both sides
 * come in as {@link ChangeLine}s, change events in the file sink's JSON line format.
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

  private static final Comparator<ChangeLine> ORDER = Comparator.comparingLong(ChangeLine::commitTs)
      // Within one ts a DDL sorts first (it never shares a ts with rows of its table), then rows by table and key.
      .thenComparing(e -> e.isDdl() ? 0 : 1).thenComparingLong(ChangeLine::table).thenComparing(e -> e.isDdl() ? "" : e.key());

  private ConsistencyCheck() {}

  /**
   * @param expected the source's events in {@code (from, until]} (others are ignored)
   * @param actual everything the sink holds, in any order, duplicates allowed
   */
  public static CheckReport compare(List<ChangeLine> expected, List<ChangeLine> actual, long from, long until) {
    Set<ChangeLine> want = window(expected, from, until);
    Set<ChangeLine> have = window(actual, from, until);

    Map<Long, CheckReport.TableDiff.Builder> tables = new TreeMap<>();
    Map<Long, Map<String, ChangeLine>> wantState = finalState(want);
    Map<Long, Map<String, ChangeLine>> haveState = finalState(have);
    Set<Long> tableIds = new TreeSet<>(wantState.keySet());
    tableIds.addAll(haveState.keySet());
    for (long table : tableIds) {
      Map<String, ChangeLine> w = wantState.getOrDefault(table, Map.of());
      Map<String, ChangeLine> h = haveState.getOrDefault(table, Map.of());
      CheckReport.TableDiff.Builder diff = tables.computeIfAbsent(table, CheckReport.TableDiff.Builder::new);
      for (Map.Entry<String, ChangeLine> row : w.entrySet()) {
        ChangeLine got = h.get(row.getKey());
        if (got == null) {
          diff.missingRow(row.getKey(), row.getValue().after());
        } else if (!got.line().equals(row.getValue().line()) && !got.after().equals(row.getValue().after())) {
          diff.wrongRow(row.getKey(), row.getValue().after(), got.after());
        }
      }
      for (Map.Entry<String, ChangeLine> row : h.entrySet()) {
        if (!w.containsKey(row.getKey())) {
          diff.extraRow(row.getKey(), row.getValue().after());
        }
      }
    }

    List<String> missingDdls = new ArrayList<>();
    List<String> extraDdls = new ArrayList<>();
    for (ChangeLine e : sorted(want)) {
      if (!have.contains(e)) {
        if (e.isDdl()) {
          missingDdls.add(e.line());
        } else {
          tables.computeIfAbsent(e.table(), CheckReport.TableDiff.Builder::new).missingChange(e.line());
        }
      }
    }
    for (ChangeLine e : sorted(have)) {
      if (!want.contains(e)) {
        if (e.isDdl()) {
          extraDdls.add(e.line());
        } else {
          tables.computeIfAbsent(e.table(), CheckReport.TableDiff.Builder::new).extraChange(e.line());
        }
      }
    }
    List<CheckReport.TableDiff> diffs = tables.values().stream().map(CheckReport.TableDiff.Builder::build)
        .filter(d -> !d.isEmpty()).toList();
    long rows = wantState.values().stream().mapToLong(Map::size).sum();
    long ddls = want.stream().filter(ChangeLine::isDdl).count();
    return new CheckReport(from, until, want.size(), rows, ddls, diffs, missingDdls, extraDdls);
  }

  /** The distinct events in {@code (from, until]}. */
  private static Set<ChangeLine> window(List<ChangeLine> events, long from, long until) {
    Set<ChangeLine> out = new HashSet<>();
    for (ChangeLine e : events) {
      if (e.commitTs() > from && e.commitTs() <= until) {
        out.add(e);
      }
    }
    return out;
  }

  private static List<ChangeLine> sorted(Set<ChangeLine> events) {
    List<ChangeLine> out = new ArrayList<>(events);
    out.sort(ORDER);
    return out;
  }

  /** Per table, the last change of every row still present at the end. */
  private static Map<Long, Map<String, ChangeLine>> finalState(Set<ChangeLine> events) {
    Map<Long, Map<String, ChangeLine>> tables = new HashMap<>();
    for (ChangeLine e : sorted(events)) {
      Map<String, ChangeLine> rows = tables.computeIfAbsent(e.table(), t -> new TreeMap<>());
      if (e.isDdl()) {
        if (EMPTIES_TABLE.contains(e.ddl())) {
          rows.clear();
        }
      } else if ("DELETE".equals(e.op())) {
        rows.remove(e.key());
      } else {
        rows.put(e.key(), e);
      }
    }
    return tables;
  }

  private static final Set<String> EMPTIES_TABLE = Set.of("TRUNCATE_TABLE", "DROP_TABLE", "CREATE_TABLE");
}
