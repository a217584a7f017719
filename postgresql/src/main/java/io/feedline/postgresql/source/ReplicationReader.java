package io.feedline.postgresql.source;

import io.feedline.dispatcher.event.EventSizes;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.postgresql.source.ChangeAssembler.Transaction;
import io.feedline.postgresql.sql.SqlText;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
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
 * message, and when the stream brings it back ending at LSN {@code m}, every transaction that committed below
 * {@code m} has been delivered, so the stream is resolved just below {@code m} (below the DDL positions of a
 * transaction that may commit right at {@code m}) and idle tables' checkpoints move.
 */
final class ReplicationReader implements ChangeStream {

  static final String HEARTBEAT_PREFIX = "feedline-heartbeat";
  static final long HEARTBEAT_MILLIS = 200;
  private static final String INSUFFICIENT_PRIVILEGE = "42501";
  private static final long MIN_BACKOFF_MILLIS = 500;
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
     * from the start position on, or the stream cannot be decoded. Otherwise the reader waits for a new
     * start (a new generation), backing off between failures.
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
    long backoff = MIN_BACKOFF_MILLIS;
    while (!closed) {
      Start start = wanted.get();
      try {
        stream(start);
      } catch (ChangesLostException | PgOutputDecoder.MalformedMessageException e) {
        // Retrying cannot help: the changes are gone, or the stream cannot be read. The source fails its spans.
        listener.failed(start.generation(), e, true);
        awaitNewStart(start);
        continue;
      } catch (Exception e) {
        if (closed) {
          break;
        }
        // The source restarts the stream (a new generation, from its spans' positions); until then, back off.
        listener.failed(start.generation(), e, false);
        pause(backoff);
        backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        awaitNewStart(start);
        continue;
      }
      backoff = MIN_BACKOFF_MILLIS;
    }
  }

  /** Reads the stream of {@code start} until a newer start is wanted or the reader closes. */
  private void stream(Start start) throws SQLException {
    try (Connection side = Jdbc.connect(spec.endpoint(), false); Connection replication = Jdbc.connect(spec.endpoint(), true)) {
      tables.baseline(Upstream.catalog(side, spec.tables()).tables());
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
        throw new ChangesLostException("a span must resume after " + Lsn.format(start.from()) + " but the changefeed's slot keeps changes only from "
            + Lsn.format(slotStart) + " on (was the changefeed resumed at an older checkpoint?)");
      }
      PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
          .withSlotName(copy)
          .withStartPosition(LogSequenceNumber.valueOf(start.from()))
          .withSlotOption("proto_version", 1)
          .withSlotOption("publication_names", SqlText.ident(spec.publicationFor(changefeed)))
          .withSlotOption("messages", true)
          .withStatusInterval((int) STATUS_MILLIS, TimeUnit.MILLISECONDS)
          .start();
      listener.started(start.generation(), start.from());
      read(start, new Upkeep(stream, side, start.from()));
      stream.close();
    }
  }

  /**
   * What the reader owes the server and the changefeed while it reads, whatever the stream brings, by time:
   * heartbeats, status updates (a server that hears nothing for {@code wal_sender_timeout} drops the
   * connection, also while the reader waits for budget) and the anchor's upkeep.
   */
  private final class Upkeep {
    final PGReplicationStream stream;
    final Connection side;
    long confirmed;
    long lastHeartbeat;
    long lastStatus;
    long lastAnchor;
    boolean heartbeatFailed;

    Upkeep(PGReplicationStream stream, Connection side, long from) {
      this.stream = stream;
      this.side = side;
      this.confirmed = from;
    }

    void run() throws SQLException {
      long now = System.currentTimeMillis();
      // Also while transactions stream in: tables they do not touch learn of progress only from heartbeats.
      if (heartbeats && now - lastHeartbeat >= HEARTBEAT_MILLIS) {
        lastHeartbeat = now;
        heartbeat(this);
      }
      status(now);
      if (now - lastAnchor >= RETAINED_REFRESH_MILLIS) {
        lastAnchor = now;
        maintainAnchor(side);
      }
    }

    void status(long now) throws SQLException {
      if (now - lastStatus >= STATUS_MILLIS) {
        lastStatus = now;
        // What this node's own slot copy may let go of; what the changefeed needs is held by the anchor.
        stream.setFlushedLSN(LogSequenceNumber.valueOf(confirmed));
        stream.setAppliedLSN(LogSequenceNumber.valueOf(confirmed));
        stream.forceUpdateStatus();
      }
    }
  }

  private void read(Start start, Upkeep upkeep) throws SQLException {
    Set<Long> looked = new HashSet<>();
    Connection side = upkeep.side;
    ChangeAssembler assembler = new ChangeAssembler(oid -> lookup(side, oid, looked), (type, modifier) -> typeName(side, type, modifier),
        spec.tables());
    while (!closed && wanted.get() == start) {
      upkeep.run();
      ByteBuffer payload = upkeep.stream.readPending();
      if (payload == null) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        continue;
      }
      PgOutputMessage message = PgOutputDecoder.decode(payload);
      if (message instanceof PgOutputMessage.Message m && !m.transactional() && m.prefix().equals(HEARTBEAT_PREFIX)) {
        // m is where the message record ends; a commit record may begin right there, and its transaction's
        // DDLs sit up to MAX_DDLS_PER_TRANSACTION below it: resolving only below those keeps them ahead.
        long resolved = m.lsn() - ChangeAssembler.MAX_DDLS_PER_TRANSACTION - 1;
        listener.resolved(start.generation(), resolved);
        listener.heartbeat(writtenAt(m.content()));
        upkeep.confirmed = Math.max(upkeep.confirmed, resolved);
        continue;
      }
      Transaction done = assembler.accept(message);
      if (done == null) {
        continue;
      }
      if (!done.ddlHistory().isEmpty()) {
        // Before anything of the transaction is handed over, so before any checkpoint can pass it: what a
        // maintainer asks of the past (tablesAt) relies on it.
        DdlCapture.committed(side, changefeed, done.commitLsn(), done.ddlHistory());
      }
      done.definitions().forEach(d -> tables.define(d.oid(), d.position(), d.table()));
      if (!done.events().isEmpty()) {
        long bytes = EventSizes.of(done.events());
        try {
          if (!budget.acquire(bytes, () -> closed || wanted.get() != start || keepAlive(upkeep))) {
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
      upkeep.confirmed = done.commitLsn();
    }
  }

  /** While waiting for budget: keeps the connection alive; never a reason to give up. */
  private static boolean keepAlive(Upkeep upkeep) {
    try {
      upkeep.status(System.currentTimeMillis());
    } catch (SQLException e) {
      return true; // the connection is gone: stop waiting, the read fails next and the stream restarts
    }
    return false;
  }

  /** A heartbeat's content: the wall-clock millisecond it was written at, in decimal (0 if it is not one of ours). */
  private static long writtenAt(byte[] content) {
    try {
      return Long.parseLong(new String(content, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private void heartbeat(Upkeep upkeep) {
    try (Statement s = upkeep.side.createStatement()) {
      s.execute("SELECT pg_logical_emit_message(false, '" + HEARTBEAT_PREFIX + "', '" + System.currentTimeMillis() + "')");
    } catch (SQLException e) {
      if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
        // Without heartbeats idle tables' checkpoints move only when a captured transaction commits.
        heartbeats = false;
        LOG.warn("event=source_heartbeat_disabled changefeed={} error=\"{}\" hint=\"GRANT EXECUTE ON FUNCTION pg_logical_emit_message(boolean, "
            + "text, text) TO the source's role lets idle tables' checkpoints advance\"", changefeed, e.getMessage());
      } else if (!upkeep.heartbeatFailed) {
        upkeep.heartbeatFailed = true; // once per stream; the next read on this connection fails too if it is gone
        LOG.warn("event=source_heartbeat_failed changefeed={} error=\"{}\"", changefeed, e.getMessage());
      }
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
      tables.baseline(Upstream.catalog(side, spec.tables()).tables());
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

  /** Waits {@code millis} unless the reader closes first. */
  private void pause(long millis) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!closed && System.nanoTime() < until) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

}
