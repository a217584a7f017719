package io.feedline.dispatcher.check;

import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.sink.file.FileSink;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.HexFormat;

/**
 * One change event as the file sink writes it ({@link FileSink#encode}): its JSON line, which identifies
 * it, and the fields the check orders and applies it by. Kept this small (no parsed tree) because a check
 * holds every event of both sides at once.
 *
 * @param ddl the DDL type for a DDL event, else null
 * @param op the row operation for a row change, else null
 * @param key the row's key bytes in hex (which sorts as the bytes do) for a row change, else null
 */
public record ChangeLine(String line, long commitTs, long table, String ddl, String op, String key) {

  public static ChangeLine of(ChangeEvent event) {
    String line = FileSink.encode(event);
    if (event instanceof DdlEvent d) {
      return new ChangeLine(line, d.commitTs(), d.tableId(), d.type().name(), null, null);
    }
    RowChange r = (RowChange) event;
    return new ChangeLine(line, r.commitTs(), r.tableId(), null, r.op().name(), HexFormat.of().formatHex(r.key().toByteArray()));
  }

  /** Reads a line of a file sink; throws {@link IllegalArgumentException} with the reason when it is not an event. */
  public static ChangeLine parse(String line) {
    JsonObject json;
    try {
      json = new JsonObject(line);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage());
    }
    if (!(json.getValue("commitTs") instanceof Number ts) || !(json.getValue("table") instanceof Number table)) {
      throw new IllegalArgumentException("no commitTs or table");
    }
    if (json.getValue("ddl") instanceof String ddl) {
      return new ChangeLine(line, ts.longValue(), table.longValue(), ddl, null, null);
    }
    if (!(json.getValue("op") instanceof String op) || !(json.getValue("key") instanceof String key)) {
      throw new IllegalArgumentException("neither a DDL nor a row change (op, key)");
    }
    return new ChangeLine(line, ts.longValue(), table.longValue(), null, op, key);
  }

  public boolean isDdl() {
    return ddl != null;
  }

  /** The row's values after the change (empty for a delete), parsed on demand. */
  JsonObject after() {
    JsonObject after = new JsonObject(line).getJsonObject("after");
    return after == null ? new JsonObject() : after;
  }
}
