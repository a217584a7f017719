package io.feedline.postgresql.source;

import io.feedline.dispatcher.event.EventSizes;
import io.feedline.postgresql.source.ChangeAssembler.Transaction;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's stream of a changefeed's changes: a thread of its own (pgjdbc blocks) that reads the upstream's
 * logical replication with {@code pgoutput}, decodes each transaction once and hands it to the node's
 * dispatchers through a {@link Listener}.
 *
 * <p>The stream reads a <em>temporary</em> copy of the changefeed's anchor slot, made on its own replication
 * connection: the copy starts where the anchor is (the changefeed's persisted checkpoint, so any position a
 * span of the changefeed may resume from), and PostgreSQL drops it when the connection ends, which also
 * happens when this node dies: no orphan slot outlives its reader. A (re)start at a position names a
 * generation; everything handed over carries it, so the receiving side ignores what an older stream sent.
 *
 * <p>Positions come from the WAL only (see {@link ChangeAssembler}); so does the resolved position between
 * transactions: every {@link #HEARTBEAT_MILLIS} the reader writes a non-transactional logical
 * message, and when the stream brings it back at LSN {@code m}, every transaction that committed below
 * {@code m} has been delivered, so the stream is resolved to {@code m - 1} and idle tables' checkpoints move.
 */
final class ReplicationReader implements ChangeStream {

  static final String HEARTBEAT_PREFIX = "feedline-heartbeat";
  static final long HEARTBEAT_MILLIS = 200;
  private static final long STATUS_MILLIS = 1000;
  private static final long RETAINED_REFRESH_MILLIS = 10_000;
  private static final long MAX_BACKOFF_MILLIS = 30_000;
  private static final Logger LOG = LoggerFactory.getLogger(ReplicationReader.class);

  /** What the stream hands over, on the reader's thread: implementations pass it to their own context. */
  interface Listener {

    /** The stream of {@code generation} reads from {@code from} (its events have commit positions above it). */
    void started(long generation, long from);

    /** A committed transaction; {@code bytes} of the budget are held for it until the listener releases them. */
    void transaction(long generation, Transaction transaction, long bytes);

    /** Every transaction that committed at or below {@code position} has been handed over. */
    void resolved(long generation, long position);

    /**
     * The stream failed. {@code lost} when retrying cannot help: the upstream no longer keeps the changes
     * from the start position on. Otherwise the reader retries with backoff.
     */
    void failed(long generation, Exception error, boolean lost);

    /** A heartbeat written upstream at {@code writtenMillis} (wall clock) came back: the stream's lag. */
    void heartbeat(long writtenMillis);

    /** The WAL the changefeed's anchor slot holds back, in bytes (-1: no anchor slot). */
    void retained(long bytes);
  }

  /** The upstream no longer has the changes a start position needs. */
  static final class ChangesLostException extends RuntimeException {
    ChangesLostException(String message) {
      super(message);
    }
  }

  private record Start(long generation, long from) {}

  private final SourceSpec spec;
  private final String changefeed;
  private final CapturedTables tables;
  private final ByteBudget budget;
  private final Listener listener;
  private final Thread thread;
  private final AtomicReference<Start> wanted = new AtomicReference<>();
  private final AtomicLong anchorTarget = new AtomicLong(-1);
  private volatile boolean closed;
  private boolean heartbeats = true;

  ReplicationReader(SourceSpec spec, String changefeed, CapturedTables tables, ByteBudget budget, Listener listener) {
    this.spec = spec;
    this.changefeed = changefeed;
    this.tables = tables;
    this.budget = budget;
    this.listener = listener;
    this.thread = new Thread(this::run, "feedline-source-" + changefeed);
    this.thread.setDaemon(true);
  }

  @Override
  public void start(long generation, long from) {
    wanted.set(new Start(generation, from));
    if (thread.getState() == Thread.State.NEW) {
      thread.start();
    }
    LockSupport.unpark(thread);
  }

  /** The reader moves the anchor slot up to {@code checkpoint} on its next maintenance round. */
  @Override
  public void advanceAnchor(long checkpoint) {
    anchorTarget.accumulateAndGet(checkpoint, Math::max);
  }

  /** Stops the thread; its connections close and the temporary slot goes with them. Does not wait. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }

  private void run() {
    long backoff = 500;
    while (!closed) {
      Start start = wanted.get();
      try {
        stream(start);
        backoff = 500;
      } catch (ChangesLostException e) {
        listener.failed(start.generation(), e, true);
        awaitNewStart(start);
      } catch (Exception e) {
        if (closed) {
          break;
        }
        listener.failed(start.generation(), e, false);
        sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
      }
    }
  }

  /** Reads the stream of {@code start} until a newer start is wanted or the reader closes. */
  private void stream(Start start) throws SQLException {
    try (Connection side = Jdbc.connect(spec.endpoint(), false); Connection replication = Jdbc.connect(spec.endpoint(), true)) {
      tables.replaceAll(Upstream.catalog(side, spec.tables()).tables());
      String anchor = SourceSpec.anchorSlot(changefeed);
      String copy = anchor + "_r" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
      try (Statement s = replication.createStatement()) {
        s.execute("SELECT pg_copy_logical_replication_slot('" + anchor + "', '" + copy + "', true)");
      } catch (SQLException e) {
        if (Upstream.slotPosition(side, anchor) == null) {
          throw new ChangesLostException("the changefeed's replication slot " + anchor + " is gone upstream: its changes since then are lost "
              + "(was it dropped by hand?); create the changefeed again");
        }
        throw e;
      }
      long slotStart = Lsn.parse(Upstream.slotPosition(side, copy));
      if (slotStart > start.from()) {
        throw new ChangesLostException("the stream must start after " + Lsn.format(start.from()) + " but the upstream keeps changes only from "
            + Lsn.format(slotStart) + " on");
      }
      PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
          .withSlotName(copy)
          .withStartPosition(LogSequenceNumber.valueOf(start.from()))
          .withSlotOption("proto_version", 1)
          .withSlotOption("publication_names", spec.publicationFor(changefeed))
          .withSlotOption("messages", true)
          .withStatusInterval((int) STATUS_MILLIS, TimeUnit.MILLISECONDS)
          .start();
      listener.started(start.generation(), start.from());
      read(start, stream, side);
      stream.close();
    }
  }

  private void read(Start start, PGReplicationStream stream, Connection side) throws SQLException {
    Set<Long> looked = new HashSet<>();
    ChangeAssembler assembler = new ChangeAssembler(oid -> lookup(side, oid, looked), (type, modifier) -> typeName(side, type, modifier));
    long confirmed = start.from();
    long lastHeartbeat = 0;
    long lastStatus = 0;
    long lastRetained = 0;
    while (!closed && wanted.get() == start) {
      long now = System.currentTimeMillis();
      // Also while transactions stream in: tables they do not touch learn of progress only from heartbeats.
      if (heartbeats && now - lastHeartbeat >= HEARTBEAT_MILLIS) {
        lastHeartbeat = now;
        heartbeat(side);
      }
      ByteBuffer payload = stream.readPending();
      if (payload == null) {
        if (now - lastStatus >= STATUS_MILLIS) {
          lastStatus = now;
          // What this node's own slot copy may let go of; what the changefeed needs is held by the anchor.
          stream.setFlushedLSN(LogSequenceNumber.valueOf(confirmed));
          stream.setAppliedLSN(LogSequenceNumber.valueOf(confirmed));
          stream.forceUpdateStatus();
        }
        if (now - lastRetained >= RETAINED_REFRESH_MILLIS) {
          lastRetained = now;
          maintainAnchor(side);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        continue;
      }
      int size = payload.remaining();
      PgOutputMessage message = PgOutputDecoder.decode(payload);
      if (message instanceof PgOutputMessage.Message m && !m.transactional() && m.prefix().equals(HEARTBEAT_PREFIX)) {
        listener.resolved(start.generation(), m.lsn() - 1);
        listener.heartbeat(writtenAt(m.content()));
        confirmed = Math.max(confirmed, m.lsn() - 1);
        continue;
      }
      Transaction done = assembler.accept(message, size);
      if (done == null) {
        continue;
      }
      assembler.tablesChanged().forEach(tables::put);
      if (!done.events().isEmpty()) {
        long bytes = EventSizes.of(done.events());
        try {
          if (!budget.acquire(bytes, () -> closed || wanted.get() != start)) {
            return;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        listener.transaction(start.generation(), done, bytes);
      } else {
        listener.resolved(start.generation(), done.commitLsn());
      }
      confirmed = done.commitLsn();
    }
  }

  /** A heartbeat's content: the wall-clock millisecond it was written at, in decimal (0 if it is not one of ours). */
  private static long writtenAt(byte[] content) {
    try {
      return Long.parseLong(new String(content, java.nio.charset.StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private void heartbeat(Connection side) {
    try (Statement s = side.createStatement()) {
      s.execute("SELECT pg_logical_emit_message(false, '" + HEARTBEAT_PREFIX + "', '" + System.currentTimeMillis() + "')");
    } catch (SQLException e) {
      // Without heartbeats idle tables' checkpoints move only when a captured transaction commits.
      heartbeats = false;
      LOG.warn("event=source_heartbeat_disabled changefeed={} error=\"{}\" hint=\"GRANT EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) "
          + "to the source's role lets idle tables' checkpoints advance\"", changefeed, e.getMessage());
    }
  }

  /** Moves the anchor up to the changefeed's persisted checkpoint when one arrived, and reports what it retains. */
  private void maintainAnchor(Connection side) throws SQLException {
    String anchor = SourceSpec.anchorSlot(changefeed);
    long target = anchorTarget.get();
    if (target > 0) {
      Upstream.advanceAnchor(side, anchor, target);
    }
    listener.retained(Upstream.retainedBytes(side, anchor));
  }

  /** A table a RELATION message names that the catalog read at the start did not capture (added to the publication since). */
  private UpstreamTable lookup(Connection side, long oid, Set<Long> looked) {
    UpstreamTable known = tables.get(oid);
    if (known != null || !looked.add(oid)) {
      return known;
    }
    try {
      tables.replaceAll(Upstream.catalog(side, spec.tables()).tables());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the upstream catalog: " + e.getMessage(), e);
    }
    return tables.get(oid);
  }

  private static String typeName(Connection side, int type, int modifier) {
    try {
      return Upstream.typeName(side, type, modifier);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot name type " + type + ": " + e.getMessage(), e);
    }
  }

  private void awaitNewStart(Start failed) {
    while (!closed && wanted.get() == failed) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  private void sleep(long millis) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    Start current = wanted.get();
    while (!closed && wanted.get() == current && System.nanoTime() < until) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }
}
