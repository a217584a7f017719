package io.feedline.postgresql.source;

import io.feedline.postgresql.source.PgOutputMessage.Column;
import io.feedline.postgresql.source.PgOutputMessage.Tuple;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads one {@code pgoutput} message (protocol version 1, text values) from the payload of a replication
 * stream's XLogData. Pure: no connection, no state, so every message kind is tested from bytes.
 */
final class PgOutputDecoder {

  /** A payload that is not a pgoutput message this decoder knows: the stream cannot be trusted further. */
  static final class MalformedMessageException extends RuntimeException {
    MalformedMessageException(String message) {
      super(message);
    }
  }

  private PgOutputDecoder() {}

  /** Decodes the message at the buffer's position; consumes the buffer. */
  static PgOutputMessage decode(ByteBuffer in) {
    if (!in.hasRemaining()) {
      throw new MalformedMessageException("an empty replication message");
    }
    char kind = (char) in.get();
    try {
      return switch (kind) {
        case 'B' -> new PgOutputMessage.Begin(in.getLong(), in.getLong(), in.getInt());
        case 'C' -> {
          in.get(); // flags: unused in protocol version 1
          yield new PgOutputMessage.Commit(in.getLong(), in.getLong(), in.getLong());
        }
        case 'R' -> relation(in);
        case 'Y' -> new PgOutputMessage.Type(oid(in), string(in), string(in));
        case 'I' -> {
          long relation = oid(in);
          expect(in, 'N', "INSERT");
          yield new PgOutputMessage.Insert(relation, tuple(in));
        }
        case 'U' -> update(in);
        case 'D' -> {
          long relation = oid(in);
          char which = (char) in.get();
          if (which != 'K' && which != 'O') {
            throw new MalformedMessageException("DELETE carries '" + which + "' where K or O belongs");
          }
          yield new PgOutputMessage.Delete(relation, tuple(in));
        }
        case 'T' -> truncate(in);
        case 'M' -> {
          boolean transactional = (in.get() & 1) != 0;
          long lsn = in.getLong();
          String prefix = string(in);
          byte[] content = new byte[in.getInt()];
          in.get(content);
          yield new PgOutputMessage.Message(transactional, lsn, prefix, content);
        }
        case 'O' -> new PgOutputMessage.Origin(in.getLong(), string(in));
        default -> throw new MalformedMessageException("unknown pgoutput message kind '" + kind + "' (0x" + Integer.toHexString(kind) + ")");
      };
    } catch (BufferUnderflowException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new MalformedMessageException("pgoutput message '" + kind + "' ends early");
    }
  }

  private static PgOutputMessage relation(ByteBuffer in) {
    long oid = oid(in);
    String namespace = string(in);
    String name = string(in);
    char identity = (char) in.get();
    int count = in.getShort();
    List<Column> columns = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      boolean key = (in.get() & 1) != 0;
      String column = string(in);
      columns.add(new Column(column, in.getInt(), in.getInt(), key));
    }
    return new PgOutputMessage.Relation(oid, namespace, name, identity, List.copyOf(columns));
  }

  private static PgOutputMessage update(ByteBuffer in) {
    long relation = oid(in);
    char which = (char) in.get();
    Tuple before = null;
    if (which == 'K' || which == 'O') {
      before = tuple(in);
      which = (char) in.get();
    }
    if (which != 'N') {
      throw new MalformedMessageException("UPDATE carries '" + which + "' where N belongs");
    }
    return new PgOutputMessage.Update(relation, before, tuple(in));
  }

  private static PgOutputMessage truncate(ByteBuffer in) {
    int count = in.getInt();
    int options = in.get();
    List<Long> relations = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      relations.add(oid(in));
    }
    return new PgOutputMessage.Truncate(List.copyOf(relations), (options & 1) != 0, (options & 2) != 0);
  }

  private static Tuple tuple(ByteBuffer in) {
    int count = in.getShort();
    char[] kinds = new char[count];
    String[] values = new String[count];
    for (int i = 0; i < count; i++) {
      char kind = (char) in.get();
      kinds[i] = kind;
      switch (kind) {
        case Tuple.NULL, Tuple.UNCHANGED_TOAST -> values[i] = null;
        case Tuple.TEXT -> {
          byte[] bytes = new byte[in.getInt()];
          in.get(bytes);
          values[i] = new String(bytes, StandardCharsets.UTF_8);
        }
        default -> throw new MalformedMessageException("a column value of kind '" + kind + "' (binary values are not requested)");
      }
    }
    return new Tuple(Arrays.asList(values), kinds);
  }

  /** An OID: unsigned 32-bit (a cluster that has made more than 2^31 objects has OIDs above Integer.MAX_VALUE). */
  private static long oid(ByteBuffer in) {
    return Integer.toUnsignedLong(in.getInt());
  }

  private static void expect(ByteBuffer in, char wanted, String message) {
    char got = (char) in.get();
    if (got != wanted) {
      throw new MalformedMessageException(message + " carries '" + got + "' where " + wanted + " belongs");
    }
  }

  /** A NUL-terminated UTF-8 string. */
  private static String string(ByteBuffer in) {
    int start = in.position();
    int end = start;
    while (in.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - start];
    in.get(bytes);
    in.get(); // the NUL
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
