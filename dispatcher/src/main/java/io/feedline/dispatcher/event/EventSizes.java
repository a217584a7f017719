package io.feedline.dispatcher.event;

import java.util.List;
import java.util.Map;

/**
 * What a change event weighs in memory, roughly, for the memory quota: object headers and references of
 * the event and its column maps, plus the characters of names and strings. An estimate, not a
 * measurement; its only job is to grow with what is actually held.
 */
public final class EventSizes {

  /** The event object, its boxed fields and two (possibly empty) maps. */
  private static final long EVENT_OVERHEAD = 96;
  /** A map entry: node, key reference, boxed value header. */
  private static final long ENTRY_OVERHEAD = 48;

  private EventSizes() {}

  public static long of(ChangeEvent event) {
    if (event instanceof RowChange row) {
      return EVENT_OVERHEAD + columns(row.before()) + columns(row.after());
    }
    DdlEvent ddl = (DdlEvent) event;
    return EVENT_OVERHEAD + chars(ddl.query()) + chars(ddl.tableName());
  }

  public static long of(List<ChangeEvent> events) {
    long bytes = 0;
    for (ChangeEvent e : events) {
      bytes += of(e);
    }
    return bytes;
  }

  private static long columns(Map<String, Object> values) {
    long bytes = 0;
    for (Map.Entry<String, Object> e : values.entrySet()) {
      bytes += ENTRY_OVERHEAD + chars(e.getKey());
      Object v = e.getValue();
      bytes += v instanceof CharSequence s ? chars(s) : v instanceof byte[] b ? 16 + b.length : 16;
    }
    return bytes;
  }

  private static long chars(CharSequence s) {
    return s == null ? 0 : 40 + s.length();
  }
}
