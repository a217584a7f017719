package io.feedline.dispatcher.sink.file;

import io.feedline.common.fence.Epochs;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WriteGate;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code file:///dir}: JSON lines, one file per table ({@code table-<id>.jsonl}), DDLs in
 * {@code ddl.jsonl} (only the barrier's single writer writes a DDL), redo dispatchers under
 * {@code redo/}. After the lines of a batch are forced to disk, the span's record is replaced atomically
 * (temp file, force, rename) in {@code checkpoints/}. All file I/O runs on the sink's own blocking I/O pool
 * ({@link EndpointContext#blockingIo()}), never on the data lane that calls the sink (nor on the lanes' pool,
 * whose threads the lanes keep busy), and a hung file system holds only this sink's threads.
 *
 * <p>The span record ({@link SpanRecord}) holds the span's checkpoint, the lowest ts any writer of it
 * started from ({@code sinceTs}: the content of the span is complete in {@code (sinceTs, checkpointTs]}),
 * and its <b>fencing token</b> (DESIGN §3 "go beyond"): the epoch and dispatcher of its latest writer. A
 * write carrying a lower epoch than the token is refused with {@link FencedWriteException} before any of
 * its lines is written, so a zombie dispatcher of an older ownership cannot touch the span once the newer
 * one has written it, even from another process: the check and the write hold an OS file lock on the
 * span. At an equal epoch another dispatcher may take over (a move within one ownership happens only
 * after the origin was confirmed stopped).
 *
 * <p>Delivery is at least once beyond the checkpoint: a crash between the lines and the checkpoint
 * leaves lines above it that a restarted dispatcher writes again; nothing is ever missing below it.
 */
public final class FileSink implements Sink {

  static final String DDL_FILE = "ddl.jsonl";
  static final String REDO_DIR = "redo";
  static final String CHECKPOINT_DIR = "checkpoints";
  private final WorkerExecutor io;
  private final Path dir;
  /** Spans of one table share its file: appends to it are serialized on the file. */
  private final Map<Path, FileChannel> files = new ConcurrentHashMap<>();
  private final Map<Path, Object> spanLocks = new ConcurrentHashMap<>();
  private final WriteGate gate;

  private FileSink(WorkerExecutor io, Path dir) {
    this.io = io;
    this.dir = dir;
    this.gate = new WriteGate("file sink " + dir, this::releaseFiles);
  }

  /** Creates the directories (on an I/O thread) and opens the sink, outside any changefeed. */
  public static Future<Sink> open(Vertx vertx, Path dir) {
    return open(EndpointContext.blockingIo(vertx, ""), dir);
  }

  /** Creates the directories and opens the sink, whose file I/O runs on {@code io} (the sink closes it). */
  public static Future<Sink> open(WorkerExecutor io, Path dir) {
    return io.<Sink>executeBlocking(() -> {
      Files.createDirectories(dir.resolve(CHECKPOINT_DIR));
      Files.createDirectories(dir.resolve(REDO_DIR));
      return new FileSink(io, dir);
    }, false).onFailure(err -> io.close());
  }

  /** The file holding the rows of {@code tableId} (or the DDLs, for table 0). */
  public static Path tableFile(Path dir, long tableId, boolean redo) {
    Path base = redo ? dir.resolve(REDO_DIR) : dir;
    return base.resolve(tableId == 0 ? DDL_FILE : "table-" + tableId + ".jsonl");
  }

  /** The file holding the checkpoint of {@code span}. */
  public static Path checkpointFile(Path dir, TableSpan span, boolean redo) {
    HexFormat hex = HexFormat.of();
    return dir.resolve(CHECKPOINT_DIR).resolve("t" + span.getTableId() + "-" + hex.formatHex(span.getStartKey().toByteArray())
        + "-" + hex.formatHex(span.getEndKey().toByteArray()) + (redo ? ".redo" : "") + ".json");
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    return gate.write(() -> io.<Void>executeBlocking(() -> {
      writeBlocking(batch);
      return null;
    }, false));
  }

  @Override
  public Future<Void> close() {
    return gate.close();
  }

  private Future<Void> releaseFiles() {
    return io.<Void>executeBlocking(() -> {
      for (FileChannel channel : files.values()) {
        channel.close();
      }
      files.clear();
      return null;
    }, false).eventually(io::close);
  }

  private void writeBlocking(SinkBatch batch) throws IOException {
    Path record = checkpointFile(dir, batch.span(), batch.redo());
    Path lockFile = record.resolveSibling(record.getFileName() + ".lock");
    // One JVM may not hold two OS locks on a file: writers of one span in this process queue here first.
    synchronized (spanLocks.computeIfAbsent(record, p -> new Object())) {
      try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = lockChannel.lock()) {
        SpanRecord token = SpanRecord.read(record);
        if (token != null && Epochs.compare(batch.epoch(), token.epoch()) < 0) {
          throw new FencedWriteException(TableSpans.format(batch.span()), batch.epoch(), token.epoch(), token.dispatcher());
        }
        Map<Path, StringBuilder> lines = new LinkedHashMap<>();
        for (ChangeEvent event : batch.events()) {
          long table = event instanceof DdlEvent ? 0 : event.tableId();
          lines.computeIfAbsent(tableFile(dir, table, batch.redo()), p -> new StringBuilder()).append(encode(event)).append('\n');
        }
        for (Map.Entry<Path, StringBuilder> e : lines.entrySet()) {
          append(e.getKey(), e.getValue().toString().getBytes(StandardCharsets.UTF_8));
        }
        long since = token == null ? batch.fromTs() : Math.min(token.sinceTs(), batch.fromTs());
        writeRecord(record, new SpanRecord(batch.span().getTableId(), batch.span().getStartKey(), batch.span().getEndKey(),
            batch.resolvedTs(), since, batch.epoch(), batch.dispatcher().toString()));
      }
    }
  }

  private void append(Path file, byte[] bytes) throws IOException {
    FileChannel channel = files.computeIfAbsent(file, FileSink::openForAppend);
    synchronized (channel) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(false);
    }
  }

  private static FileChannel openForAppend(Path file) {
    try {
      return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeRecord(Path target, SpanRecord record) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(ByteBuffer.wrap(record.encode().getBytes(StandardCharsets.UTF_8)));
      channel.force(true);
    }
    // The rename is the commit point: a reader sees the old record or the new one, never a torn one.
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The JSON line of one event, as written to the files. */
  public static String encode(ChangeEvent event) {
    JsonObject line = new JsonObject().put("commitTs", event.commitTs()).put("table", event.tableId());
    if (event instanceof RowChange row) {
      line.put("op", row.op().name()).put("key", HexFormat.of().formatHex(row.key().toByteArray()));
      if (!row.before().isEmpty()) {
        line.put("before", new JsonObject(new LinkedHashMap<>(row.before())));
      }
      if (!row.after().isEmpty()) {
        line.put("after", new JsonObject(new LinkedHashMap<>(row.after())));
      }
    } else if (event instanceof DdlEvent ddl) {
      line.put("ddl", ddl.type().name()).put("query", ddl.query());
    }
    return line.encode();
  }
}
