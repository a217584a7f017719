package io.feedline.postgresql.source;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A row's primary key as the bytes spans split tables by: each column self-delimited and concatenated, so
 * that keys compare as unsigned bytes the way the tuples compare column by column. Integers (and
 * {@code oid}) sort by value; text, {@code uuid}, dates and timestamps (whose text forms sort as their
 * values within years 1–9999) by their text. Other types ({@code numeric}, floats ...) are encoded from
 * their text too: deterministic, which is all correctness needs (a key always lands in the same span on
 * every node), but not in value order, so a split of such a table by value range is uneven.
 */
final class KeyEncoding {

  private static final byte NULL = 0x00;
  private static final byte FALSE = 0x08;
  private static final byte TRUE = 0x09;
  private static final byte INTEGER = 0x10;
  private static final byte TEXT = 0x20;

  private KeyEncoding() {}

  /**
   * @param typeOids the key columns' type OIDs, in key order
   * @param texts their values in PostgreSQL's text form (null for SQL NULL), in key order
   */
  static ByteString encode(List<Integer> typeOids, List<String> texts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16);
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null) {
        out.write(NULL);
      } else if (PgTypes.isInteger(typeOids.get(i))) {
        out.write(INTEGER);
        long flipped = Long.parseLong(text) ^ Long.MIN_VALUE; // sign bit flipped: negatives sort first
        for (int shift = 56; shift >= 0; shift -= 8) {
          out.write((int) (flipped >>> shift));
        }
      } else if (typeOids.get(i) == PgTypes.BOOL) {
        out.write(text.startsWith("t") ? TRUE : FALSE);
      } else {
        out.write(TEXT);
        // 0x00 ends the value, so a 0x00 inside it (never in PostgreSQL text, but cheap to keep safe) is escaped.
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
          out.write(b);
          if (b == 0) {
            out.write(0xFF);
          }
        }
        out.write(0);
      }
    }
    return ByteString.copyFrom(out.toByteArray());
  }
}
