package io.feedline.postgresql.source;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Writes pgoutput messages byte for byte as the server sends them ("Logical Replication Message Formats"). */
final class PgOutputBytes {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final DataOutputStream out = new DataOutputStream(bytes);

  static PgOutputBytes message(char kind) {
    return new PgOutputBytes().b(kind);
  }

  PgOutputBytes b(int value) {
    return io(() -> out.writeByte(value));
  }

  PgOutputBytes i16(int value) {
    return io(() -> out.writeShort(value));
  }

  PgOutputBytes i32(int value) {
    return io(() -> out.writeInt(value));
  }

  PgOutputBytes i64(long value) {
    return io(() -> out.writeLong(value));
  }

  PgOutputBytes str(String value) {
    return io(() -> {
      out.write(value.getBytes(StandardCharsets.UTF_8));
      out.writeByte(0);
    });
  }

  /** TupleData: each value text, or null ('n'); the marker "\u0000toast" writes an unchanged TOAST value ('u'). */
  PgOutputBytes tuple(String... values) {
    i16(values.length);
    for (String v : values) {
      if (v == null) {
        b('n');
      } else if (v.equals(UNCHANGED)) {
        b('u');
      } else {
        byte[] text = v.getBytes(StandardCharsets.UTF_8);
        b('t').i32(text.length);
        io(() -> out.write(text));
      }
    }
    return this;
  }

  static final String UNCHANGED = "\u0000toast";

  ByteBuffer buffer() {
    return ByteBuffer.wrap(bytes.toByteArray());
  }

  static ByteBuffer begin(long finalLsn, long micros, int xid) {
    return message('B').i64(finalLsn).i64(micros).i32(xid).buffer();
  }

  static ByteBuffer commit(long lsn, long micros) {
    return message('C').b(0).i64(lsn).i64(lsn + 40).i64(micros).buffer();
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private PgOutputBytes io(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }
}
