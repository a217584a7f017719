package io.feedline.dispatcher.dispatcher;

import com.google.protobuf.ByteString;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Key-range arithmetic on {@link TableSpan}s: {@code [start, end)} of one table, compared as unsigned
 * bytes, where an empty start is the table's first key and an empty end its last.
 */
public final class Spans {

  private static final Comparator<ByteString> KEYS = ByteString.unsignedLexicographicalComparator();

  private Spans() {}

  public static boolean overlaps(TableSpan a, TableSpan b) {
    return a.getTableId() == b.getTableId()
        && (a.getEndKey().isEmpty() || KEYS.compare(b.getStartKey(), a.getEndKey()) < 0)
        && (b.getEndKey().isEmpty() || KEYS.compare(a.getStartKey(), b.getEndKey()) < 0);
  }

  public static boolean contains(TableSpan span, ByteString key) {
    return KEYS.compare(span.getStartKey(), key) <= 0 && (span.getEndKey().isEmpty() || KEYS.compare(key, span.getEndKey()) < 0);
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
    return Optional.of(TableSpan.newBuilder()
        .setTableId(sorted.get(0).getTableId())
        .setStartKey(sorted.get(0).getStartKey())
        .setEndKey(sorted.get(sorted.size() - 1).getEndKey())
        .build());
  }

  /** {@code t<table>[<start hex>,<end hex>)}: log field and file-name-safe key of a span. */
  public static String format(TableSpan span) {
    HexFormat hex = HexFormat.of();
    return "t" + span.getTableId() + "[" + hex.formatHex(span.getStartKey().toByteArray()) + "," + hex.formatHex(span.getEndKey().toByteArray()) + ")";
  }
}
