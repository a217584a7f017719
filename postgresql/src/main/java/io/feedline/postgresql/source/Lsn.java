package io.feedline.postgresql.source;

/** PostgreSQL's {@code X/Y} spelling of a WAL position (an unsigned 64-bit byte offset). */
public final class Lsn {

  private Lsn() {}

  public static String format(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
  }

  /** @throws IllegalArgumentException when {@code text} is not {@code X/Y} in hex */
  public static long parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not an LSN (X/Y in hex, e.g. 0/16B3748)");
    }
    try {
      long high = Long.parseUnsignedLong(text.substring(0, slash), 16);
      long low = Long.parseUnsignedLong(text.substring(slash + 1), 16);
      if (high > 0xFFFF_FFFFL || low > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("'" + text + "' is not an LSN: each half has at most 8 hex digits");
      }
      return high << 32 | low;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not an LSN (X/Y in hex, e.g. 0/16B3748)");
    }
  }
}
