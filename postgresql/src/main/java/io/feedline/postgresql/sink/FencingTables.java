package io.feedline.postgresql.sink;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.sink.RecordedShapes;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Feedline's own tables in the {@code feedline} schema of the downstream database: the fencing tokens and
 * the span checkpoints (DESIGN §3 "sink-side fencing", §7 SQL sink).
 *
 * <ul>
 *   <li>{@code feedline.changefeeds}: one row per changefeed, the highest epoch that has written. A writer
 *       raises it to its own epoch (once per epoch, outside its batches: the raise waits for the batches of
 *       older epochs still open, then every later one of theirs is refused) and every batch reads it
 *       {@code FOR SHARE}: a batch of a lower epoch is refused. This is what refuses a zombie holding a
 *       span in a shape that no longer exists (before a split or a merge): its span row may be untouched,
 *       the changefeed row is not.</li>
 *   <li>{@code feedline.spans}: one row per span shape, its owner (epoch and dispatcher) and checkpoint.
 *       Each batch claims it with a compare-and-set ({@code epoch <= :epoch}, zero rows when a higher epoch
 *       holds it), which also locks it: one open transaction per span. The checkpoint is written in the
 *       same transaction as the rows, so it is exactly what the tables hold: a replay skips what lies at or
 *       below it, and {@code feedline check} compares the tables with the source up to it.</li>
 *   <li>{@code feedline.tables}: per changefeed and upstream table, the commit ts of its last applied TRUNCATE or
 *       DROP, written in the DDL's transaction. A writer's replay skips every change of the table at or below it
 *       ({@link io.feedline.dispatcher.sink.RecordedShapes#skipThrough}): re-applied after the DDL, those changes
 *       would bring back rows it wiped, and nothing would remove them again. A DDL applied before this table
 *       existed (an older Feedline) left no mark: the protection starts with the next one.</li>
 * </ul>
 * Epochs and timestamps are unsigned 64-bit upstream and {@code bigint} here: values at or above 2^63 are
 * refused (the timestamp oracle is decades away from them).
 */
final class FencingTables {

  /** The span's own row ($1 changefeed, $2 table, $3 start key, $4 end key, $5 redo). */
  private static final String SPAN_KEY = "changefeed = $1 AND table_id = $2 AND start_key = $3 AND end_key = $4 AND redo = $5";
  /** A recorded shape overlaps [$3, $4) (an empty end key: to the end of the table; bytea compares bytewise). */
  private static final String OVERLAPS = "(end_key = ''::bytea OR end_key > $3) AND ($4 = ''::bytea OR start_key < $4)";

  /** Serializes the creation of the schema among the nodes that open sinks at once. */
  private static final long SCHEMA_LOCK = 0x4665_6564_6c69_6e65L;

  static List<Statement> createSchema(String targetSchema) {
    return List.of(
        new Statement("SELECT pg_advisory_xact_lock($1)", Tuple.of(SCHEMA_LOCK)),
        Statement.of("CREATE SCHEMA IF NOT EXISTS feedline"),
        Statement.of("CREATE TABLE IF NOT EXISTS feedline.changefeeds (changefeed text PRIMARY KEY, epoch bigint NOT NULL, "
            + "target_schema text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"),
        Statement.of("CREATE TABLE IF NOT EXISTS feedline.spans (changefeed text NOT NULL, table_id bigint NOT NULL, "
            + "start_key bytea NOT NULL, end_key bytea NOT NULL, redo boolean NOT NULL, epoch bigint NOT NULL, writer text NOT NULL, "
            + "checkpoint_ts bigint NOT NULL, since_ts bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
            + "PRIMARY KEY (changefeed, table_id, start_key, end_key, redo))"),
        Statement.of("CREATE TABLE IF NOT EXISTS feedline.tables (changefeed text NOT NULL, table_id bigint NOT NULL, "
            + "cleared_ts bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (changefeed, table_id))"),
        Statement.of("CREATE SCHEMA IF NOT EXISTS " + SqlText.ident(targetSchema)));
  }

  /** Raises the changefeed's epoch to the writer's (creating the row); waits for open batches of lower epochs. */
  static Statement raise(String changefeed, long epoch, String targetSchema) {
    return new Statement("INSERT INTO feedline.changefeeds AS c (changefeed, epoch, target_schema) VALUES ($1, $2, $3) "
        + "ON CONFLICT (changefeed) DO UPDATE SET epoch = EXCLUDED.epoch, updated_at = now() WHERE c.epoch < EXCLUDED.epoch",
        Tuple.of(changefeed, epoch, targetSchema));
  }

  /** The changefeed's epoch, read-locked until the batch ends: a raise waits for it. */
  static Statement changefeedFence(String changefeed) {
    return new Statement("SELECT epoch FROM feedline.changefeeds WHERE changefeed = $1 FOR SHARE", Tuple.of(changefeed));
  }

  /** Claims the span's row for the batch's writer: one row back when admitted, none when a higher epoch owns it. */
  static Statement claimSpan(String changefeed, SinkBatch batch) {
    return new Statement("INSERT INTO feedline.spans AS s (changefeed, table_id, start_key, end_key, redo, epoch, writer, checkpoint_ts, since_ts) "
        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (changefeed, table_id, start_key, end_key, redo) "
        + "DO UPDATE SET epoch = EXCLUDED.epoch, writer = EXCLUDED.writer, since_ts = LEAST(s.since_ts, EXCLUDED.since_ts) "
        + "WHERE s.epoch <= EXCLUDED.epoch RETURNING s.epoch",
        spanKey(changefeed, batch).addLong(batch.epoch()).addString(batch.dispatcher().toString()).addLong(batch.fromTs()));
  }

  static Statement recordCheckpoint(String changefeed, SinkBatch batch) {
    return new Statement("UPDATE feedline.spans SET checkpoint_ts = GREATEST(checkpoint_ts, $6), updated_at = now() WHERE " + SPAN_KEY,
        spanKey(changefeed, batch).addLong(batch.resolvedTs()));
  }

  /** The table's rows were wiped at {@code ts} (a TRUNCATE or DROP): from now on a row change below it is obsolete. */
  static Statement markCleared(String changefeed, long tableId, long ts) {
    return new Statement("INSERT INTO feedline.tables AS t (changefeed, table_id, cleared_ts) VALUES ($1, $2, $3) "
        + "ON CONFLICT (changefeed, table_id) DO UPDATE SET cleared_ts = GREATEST(t.cleared_ts, EXCLUDED.cleared_ts), updated_at = now()",
        Tuple.of(changefeed, tableId, ts));
  }

  /** The commit ts of the table's last applied TRUNCATE or DROP: no row, or one column. */
  static Statement cleared(String changefeed, long tableId) {
    return new Statement("SELECT cleared_ts FROM feedline.tables WHERE changefeed = $1 AND table_id = $2", Tuple.of(changefeed, tableId));
  }

  /** The span's owner: epoch and writer, for the message of a refusal. */
  static Statement owner(String changefeed, SinkBatch batch) {
    return new Statement("SELECT epoch, writer FROM feedline.spans WHERE " + SPAN_KEY, spanKey(changefeed, batch));
  }

  /** Every recorded shape that overlaps the batch's span (its own included): start, end and checkpoint. */
  static Statement recorded(String changefeed, SinkBatch batch) {
    return new Statement("SELECT start_key, end_key, checkpoint_ts FROM feedline.spans WHERE changefeed = $1 AND table_id = $2 AND redo = $5 AND "
        + OVERLAPS, spanKey(changefeed, batch));
  }

  /** What the batch's writer skips, from {@link #recorded} and {@link #cleared} rows ({@link RecordedShapes#skipThrough}). */
  static long skipThrough(SinkBatch batch, RowSet<Row> recorded, RowSet<Row> cleared) {
    List<RecordedShapes.Shape> shapes = new ArrayList<>();
    for (Row r : recorded) {
      shapes.add(new RecordedShapes.Shape(bytes(r, 0), bytes(r, 1), r.getLong(2)));
    }
    long clearedTs = -1;
    for (Row r : cleared) {
      clearedTs = r.getLong(0);
    }
    return RecordedShapes.skipThrough(batch.span(), shapes, clearedTs);
  }

  /**
   * The other recorded shapes overlapping the batch's span no longer vouch for anything above {@code floor}:
   * this writer re-applies the changes above it over their keys (a split's part starting below its parent's
   * checkpoint, a merge from the lowest of its parts'), so for a while those keys hold older versions than
   * the other shapes' checkpoints say. Lowered in the same transaction, a replay in an old shape can never
   * skip what this one has just rewound.
   */
  static Statement releaseOtherShapes(String changefeed, SinkBatch batch, long floor) {
    return new Statement("UPDATE feedline.spans SET checkpoint_ts = LEAST(checkpoint_ts, $6) WHERE changefeed = $1 AND table_id = $2 "
        + "AND redo = $5 AND NOT (start_key = $3 AND end_key = $4) AND checkpoint_ts > $6 AND " + OVERLAPS,
        spanKey(changefeed, batch).addLong(floor));
  }

  private static Tuple spanKey(String changefeed, SinkBatch batch) {
    return Tuple.of(changefeed, batch.span().getTableId(), bytes(batch.span().getStartKey()), bytes(batch.span().getEndKey()), batch.redo());
  }

  private static Buffer bytes(ByteString key) {
    return Buffer.buffer(key.toByteArray());
  }

  private static ByteString bytes(Row row, int column) {
    return ByteString.copyFrom(row.getBuffer(column).getBytes());
  }

  private FencingTables() {}
}
