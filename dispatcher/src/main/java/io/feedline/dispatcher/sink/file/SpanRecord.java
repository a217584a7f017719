package io.feedline.dispatcher.sink.file;

import com.google.protobuf.ByteString;
import io.feedline.common.fence.Epochs;
import io.feedline.proto.TableSpan;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * What the file sink records per span in {@code checkpoints/}: its checkpoint, the lowest ts a writer of
 * it started from, and its fencing token (epoch and dispatcher of the latest writer). Epochs are written
 * as unsigned decimal strings.
 *
 * @param checkpointTs everything of the span up to here is in the files
 * @param sinceTs the span's content in the files is complete above this ts (up to the checkpoint)
 */
public record SpanRecord(long tableId, ByteString startKey, ByteString endKey, long checkpointTs, long sinceTs, long epoch,
    String dispatcher) {

  public TableSpan span() {
    return TableSpan.newBuilder().setTableId(tableId).setStartKey(startKey).setEndKey(endKey).build();
  }

  String encode() {
    HexFormat hex = HexFormat.of();
    return new JsonObject()
        .put("tableId", tableId)
        .put("startKey", hex.formatHex(startKey.toByteArray()))
        .put("endKey", hex.formatHex(endKey.toByteArray()))
        .put("checkpointTs", checkpointTs)
        .put("sinceTs", sinceTs)
        .put("epoch", Epochs.format(epoch))
        .put("dispatcher", dispatcher)
        .encode();
  }

  /** The record in {@code file}, or null when there is none yet. */
  public static SpanRecord read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    }
    return decode(file, text);
  }

  static SpanRecord decode(Path file, String text) throws IOException {
    try {
      JsonObject json = new JsonObject(text);
      HexFormat hex = HexFormat.of();
      String epoch = json.getString("epoch", "0");
      return new SpanRecord(json.getLong("tableId"),
          ByteString.copyFrom(hex.parseHex(json.getString("startKey", ""))),
          ByteString.copyFrom(hex.parseHex(json.getString("endKey", ""))),
          json.getLong("checkpointTs"),
          json.getLong("sinceTs", 0L),
          Long.parseUnsignedLong(epoch),
          json.getString("dispatcher", ""));
    } catch (DecodeException | ClassCastException | IllegalArgumentException | NullPointerException e) {
      throw new IOException("span record " + file + " is not readable: " + e.getMessage(), e);
    }
  }
}
