package io.feedline.dispatcher.sink;

import com.google.protobuf.ByteString;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The span shapes a sink records in its downstream with their checkpoints, and how far a writer's key range is already
 * applied there, so that a replay from an older checkpoint skips what is applied (DESIGN §7); and the rule that a replay
 * never brings back what a TRUNCATE or DROP already wiped. Pure: the PostgreSQL sink reads the shapes and the tables'
 * clear marks from its own tables; the deterministic simulator's downstream keeps them in memory, so both skip by the
 * same rule.
 */
public final class RecordedShapes {

  private static final Comparator<ByteString> KEYS = ByteString.unsignedLexicographicalComparator();

  /** One recorded shape of a table: its key range (an empty end: to the end of the table) and its checkpoint. */
  public record Shape(ByteString start, ByteString end, long checkpoint) {}

  private RecordedShapes() {}

  /**
   * What a writer of {@code span} skips: every change at or below this ts. Past what its key range applied
   * ({@link #appliedThrough}), and for a table's span past the table's last applied TRUNCATE or DROP ({@code clearedTs}):
   * a replay from an older checkpoint (a merged or re-created shape starts from the lowest of its parts', a node's crash
   * from the changefeed's) would otherwise re-insert rows the DDL wiped, which no later change of the span undoes, since
   * the DDL itself is the trigger's to write and is not written again. Skipping them is exact: every row change below
   * the DDL was written before it (the barrier), and the DDL wiped it.
   *
   * @param clearedTs the commit ts of the table's last TRUNCATE or DROP the downstream applied; -1 for none
   */
  public static long skipThrough(TableSpan span, List<Shape> overlapping, long clearedTs) {
    long applied = appliedThrough(span, overlapping);
    return span.getTableId() == TableSpans.DDL_TABLE_ID ? applied : Math.max(applied, clearedTs);
  }

  /** Whether applying {@code ddl} wipes its table's rows (from then on, a row change below it is obsolete). */
  public static boolean clears(DdlEvent ddl) {
    return ddl.type() == DdlEvent.Type.TRUNCATE_TABLE || ddl.type() == DdlEvent.Type.DROP_TABLE;
  }

  /**
   * Up to where {@code span}'s key range is applied: its own shape's checkpoint; else, when other shapes cover the whole
   * range (the parent of a split, the parts of a merge), the lowest of theirs; else nothing (-1).
   *
   * @param overlapping every recorded shape of the span's table that overlaps it (its own included)
   */
  public static long appliedThrough(TableSpan span, List<Shape> overlapping) {
    ByteString start = span.getStartKey();
    ByteString end = span.getEndKey();
    List<Shape> others = new ArrayList<>();
    for (Shape s : overlapping) {
      if (s.start().equals(start) && s.end().equals(end)) {
        return s.checkpoint();
      }
      others.add(s);
    }
    others.sort(Comparator.comparing(Shape::start, KEYS));
    ByteString covered = start;
    long lowest = Long.MAX_VALUE;
    for (Shape s : others) {
      if (KEYS.compare(s.start(), covered) > 0) {
        return -1; // a gap: some keys of the range were never written by any recorded shape
      }
      lowest = Math.min(lowest, s.checkpoint());
      if (s.end().isEmpty() || (!end.isEmpty() && KEYS.compare(s.end(), end) >= 0)) {
        return lowest;
      }
      if (KEYS.compare(s.end(), covered) > 0) {
        covered = s.end();
      }
    }
    return -1;
  }
}
