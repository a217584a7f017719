package io.feedline.common.span;

import com.google.protobuf.ByteString;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Key-range arithmetic on {@link TableSpan}s: {@code [start, end)} of one table, compared as unsigned bytes,
 * where an empty start is the table's first key and an empty end its last. One vocabulary for every role.
 */
public final class TableSpans {

  /**
   * The table id of the table trigger's span (DESIGN: the special DDL span): its subscription carries every DDL
   * of every table, and the barrier blocks it with the tables a DDL touches.
   */
  public static final long DDL_TABLE_ID = 0;

  public static final Comparator<ByteString> KEYS = ByteString.unsignedLexicographicalComparator();
  /** Orders spans by table, then start key: the order gaps are found in. */
  public static final Comparator<TableSpan> ORDER =
      Comparator.comparingLong(TableSpan::getTableId).thenComparing(TableSpan::getStartKey, KEYS);

  private TableSpans() {}

  public static TableSpan wholeTable(long tableId) {
    return TableSpan.newBuilder().setTableId(tableId).build();
  }

  /** The table trigger's span. */
  public static TableSpan ddlSpan() {
    return wholeTable(DDL_TABLE_ID);
  }

  public static TableSpan span(long tableId, ByteString start, ByteString end) {
    return TableSpan.newBuilder().setTableId(tableId).setStartKey(start).setEndKey(end).build();
  }

  public static boolean overlaps(TableSpan a, TableSpan b) {
    return a.getTableId() == b.getTableId()
        && (a.getEndKey().isEmpty() || KEYS.compare(b.getStartKey(), a.getEndKey()) < 0)
        && (b.getEndKey().isEmpty() || KEYS.compare(a.getStartKey(), b.getEndKey()) < 0);
  }

  public static boolean contains(TableSpan span, ByteString key) {
    return KEYS.compare(span.getStartKey(), key) <= 0 && (span.getEndKey().isEmpty() || KEYS.compare(key, span.getEndKey()) < 0);
  }

  /** Whether {@code key} lies strictly inside {@code span}, so splitting there leaves two non-empty parts. */
  public static boolean strictlyInside(TableSpan span, ByteString key) {
    return KEYS.compare(span.getStartKey(), key) < 0 && (span.getEndKey().isEmpty() || KEYS.compare(key, span.getEndKey()) < 0);
  }

  /**
   * The ranges of table {@code tableId} that none of {@code covered} (spans of that table that do not
   * overlap each other) covers, in key order.
   */
  public static List<TableSpan> gaps(long tableId, List<TableSpan> covered) {
    List<TableSpan> sorted = new ArrayList<>(covered);
    sorted.sort(ORDER);
    List<TableSpan> gaps = new ArrayList<>();
    ByteString cursor = ByteString.EMPTY;
    for (TableSpan s : sorted) {
      if (KEYS.compare(s.getStartKey(), cursor) > 0) {
        gaps.add(span(tableId, cursor, s.getStartKey()));
      }
      if (s.getEndKey().isEmpty()) {
        return gaps;
      }
      if (KEYS.compare(s.getEndKey(), cursor) > 0) {
        cursor = s.getEndKey();
      }
    }
    gaps.add(span(tableId, cursor, ByteString.EMPTY));
    return gaps;
  }

  /** Splits {@code span} at {@code keys} (inside it, ascending) into adjacent spans covering it exactly. */
  public static List<TableSpan> splitAt(TableSpan span, List<ByteString> keys) {
    List<TableSpan> parts = new ArrayList<>();
    ByteString start = span.getStartKey();
    for (ByteString key : keys) {
      parts.add(span(span.getTableId(), start, key));
      start = key;
    }
    parts.add(span(span.getTableId(), start, span.getEndKey()));
    return parts;
  }

  /**
   * The span covering {@code parts} when they are spans of one table that touch end to start with no
   * gap and no overlap, in any order; empty otherwise.
   */
  public static Optional<TableSpan> union(List<TableSpan> parts) {
    if (parts.isEmpty()) {
      return Optional.empty();
    }
    List<TableSpan> sorted = new ArrayList<>(parts);
    sorted.sort((a, b) -> KEYS.compare(a.getStartKey(), b.getStartKey()));
    for (int i = 1; i < sorted.size(); i++) {
      TableSpan prev = sorted.get(i - 1);
      TableSpan next = sorted.get(i);
      if (next.getTableId() != prev.getTableId() || prev.getEndKey().isEmpty() || !prev.getEndKey().equals(next.getStartKey())) {
        return Optional.empty();
      }
    }
    return Optional.of(span(sorted.get(0).getTableId(), sorted.get(0).getStartKey(), sorted.get(sorted.size() - 1).getEndKey()));
  }

  /** {@code t<table>[<start hex>,<end hex>)}: log field and file-name-safe key of a span. */
  public static String format(TableSpan span) {
    HexFormat hex = HexFormat.of();
    return "t" + span.getTableId() + "[" + hex.formatHex(span.getStartKey().toByteArray()) + "," + hex.formatHex(span.getEndKey().toByteArray()) + ")";
  }
}
