package io.feedline.dispatcher.dispatcher;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.simulation.ProtocolMutation;
import io.feedline.common.span.TableSpans;
import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.dataplane.DataLane;
import io.feedline.dispatcher.dataplane.MemoryQuota;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.EventSizes;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.proto.SpanHold;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Replicates one span: in a turn of its changefeed on its {@link DataLane}, polls a batch from the source
 * (as much as the memory reserved for the turn allows) and writes it to the sink, and only once the sink
 * reports it durable advances the checkpoint to the batch's resolved ts and returns the memory; then asks
 * for the next turn, or waits for the source when it had nothing. One batch in flight at a time is the
 * backpressure. Runs on its lane's context only; the listener is told there too.
 *
 * <p>DDL barrier (contract in control.proto): every DDL a (non-redo) dispatcher receives is a block
 * point. At a DDL with commit ts {@code T} it first makes everything below {@code T} durable (checkpoint
 * {@code T-1}), then blocks and tells the listener; it holds the rest of the batch until
 * {@link #release} says to write the DDL (the single writer) or to pass it, and only then moves its
 * checkpoint to {@code T} and goes on. A redo dispatcher logs DDLs as they come: the redo log is a log
 * of what happened upstream, not the downstream schema.
 *
 * <p>It reports what happens to a {@link Listener}; the state it is in (Initializing, Working, Stopped)
 * is the manager's to keep.
 */
public final class Dispatcher {

  /**
   * An idle span still records its checkpoint downstream this often (an empty batch), so a reader of the
   * sink can tell how far every span has got, and a sink keeping fencing tokens learns the current owner.
   */
  public static final long IDLE_CHECKPOINT_MILLIS = 1_000;

  /** What the manager hears from a dispatcher, on the dispatcher's lane. */
  public interface Listener {
    /** Subscribed: the dispatcher is writing. */
    void working(DispatcherKey ref);

    /** Everything up to {@code checkpointTs} is durable downstream; the source has resolved up to {@code resolvedTs}. */
    void progressed(DispatcherKey ref, long checkpointTs, long resolvedTs);

    /** Everything below {@code ddl}'s commit ts is durable; the dispatcher waits for {@link #release}. */
    void blocked(DispatcherKey ref, DdlEvent ddl);

    /** The DDL it was blocked at is written (or passed): everything up to its commit ts is durable. */
    void passed(DispatcherKey ref, DdlEvent ddl, boolean written);

    /**
     * Stopped on its own: the source or the sink ({@code side}: {@link SpanHold#SPAN_HOLD_SOURCE} or
     * {@link SpanHold#SPAN_HOLD_SINK}) failed. Not called after {@link #stop()}.
     */
    void failed(DispatcherKey ref, Throwable cause, SpanHold side);
  }

  private enum Phase {
    NEW,
    SUBSCRIBING,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private final DispatcherSpec spec;
  private final Source source;
  private final Sink sink;
  private final DataLane.Tenant tenant;
  private final Scheduler scheduler;
  private final Listener listener;
  private final int batchRows;
  private final LongSupplier epoch;
  private final Promise<Void> stopped = Promise.promise();
  private Phase phase = Phase.NEW;
  private SourceSubscription subscription;
  /** A pull or a write is outstanding; stopping waits for it so no write lands after Stopped is reported. */
  private boolean busy;
  /** The DDL this dispatcher is blocked at, or null. */
  private DdlEvent blockedAt;
  /** The events of the batch after {@link #blockedAt}, delivered once it is released. */
  private List<ChangeEvent> held = List.of();
  private long heldResolvedTs;
  /** The memory of what was read and is not yet durable downstream (a batch, or the rest held at a DDL). */
  private MemoryQuota.Reservation reservation;
  /** Everything up to here is durable downstream (or had nothing to write). */
  private long checkpointTs;
  private long lastSinkWriteAt = Long.MIN_VALUE / 2;
  /**
   * When the sink write now outstanding began (0: none), read by the manager's runtime from its own context
   * to tell a sink that holds a span's checkpoint from a source that has nothing newer.
   */
  private volatile long sinkWriteOutstandingSince;

  /**
   * @param tenant the changefeed's place on the data lane: turns, memory, sink counters
   * @param epoch the epoch the dispatcher manager is fenced at now, sent with every write: sinks that
   *     keep a fencing token per span refuse writes below the highest epoch they have seen for it
   */
  public Dispatcher(DispatcherSpec spec, Source source, Sink sink, DataLane.Tenant tenant, Listener listener, int batchRows, LongSupplier epoch) {
    this.spec = spec;
    this.epoch = epoch;
    this.checkpointTs = spec.startTs();
    this.source = source;
    this.sink = sink;
    this.tenant = tenant;
    this.scheduler = tenant.lane().scheduler();
    this.listener = listener;
    this.batchRows = batchRows;
  }

  public DispatcherSpec spec() {
    return spec;
  }

  public void start() {
    if (phase != Phase.NEW) {
      return;
    }
    phase = Phase.SUBSCRIBING;
    Future<SourceSubscription> subscribed;
    try {
      subscribed = source.subscribe(spec.span(), spec.startTs());
    } catch (RuntimeException e) {
      subscribed = Future.failedFuture(e);
    }
    subscribed.onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
        return;
      }
      subscription = ar.result();
      if (phase == Phase.STOPPING) {
        finishStop();
        return;
      }
      phase = Phase.RUNNING;
      listener.working(spec.ref());
      awaitEvents();
    });
  }

  /** Stops pulling; completes once no write is in flight. Idempotent. */
  public Future<Void> stop() {
    switch (phase) {
      case NEW -> finishStop();
      case RUNNING -> {
        phase = Phase.STOPPING;
        subscription.cancel();
        if (!busy) {
          finishStop();
        }
      }
      case SUBSCRIBING -> phase = Phase.STOPPING;
      default -> {
        // STOPPING or STOPPED: the first stop is already under way.
      }
    }
    return stopped.future();
  }

  /**
   * The barrier action for the DDL this dispatcher is blocked at: write it to the sink ({@code write}) or
   * pass it, then go on. Ignored unless blocked at exactly {@code commitTs} and not already releasing, so
   * a resent action is harmless.
   */
  public void release(long commitTs, boolean write) {
    if (phase != Phase.RUNNING || busy || blockedAt == null || blockedAt.commitTs() != commitTs) {
      return;
    }
    DdlEvent ddl = blockedAt;
    busy = true;
    Future<Void> applied = write ? sinkWrite(List.of(ddl), ddl.commitTs()) : Future.succeededFuture();
    applied.compose(v -> {
      blockedAt = null;
      listener.passed(spec.ref(), ddl, write);
      List<ChangeEvent> rest = held;
      held = List.of();
      return deliver(rest, heldResolvedTs);
    }).onComplete(this::delivered);
  }

  /** Asks for a turn once the source has something; a stop cancels the subscription and so the wait. */
  private void awaitEvents() {
    if (phase != Phase.RUNNING) {
      return;
    }
    Future<Void> available;
    try {
      available = subscription.available();
    } catch (RuntimeException e) {
      available = Future.failedFuture(e);
    }
    available.onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
      } else if (phase == Phase.RUNNING) {
        tenant.turn(this::read, spec.span().getTableId() != TableSpans.DDL_TABLE_ID);
      }
    });
  }

  /** This dispatcher's turn: reads what the reserved memory allows and hands it to the sink. */
  private void read(MemoryQuota.Reservation reserved) {
    if (phase != Phase.RUNNING) {
      reserved.release();
      return;
    }
    ChangeBatch batch;
    try {
      batch = subscription.poll(tenant.eventsFor(reserved, batchRows));
    } catch (RuntimeException e) {
      reserved.release();
      fail(e);
      return;
    }
    if (batch == null) {
      reserved.release();
      awaitEvents();
      return;
    }
    reserved.settle(tenant.weigh(batch.events()));
    reservation = reserved;
    busy = true;
    // Where the source has got to, before the sink has it: a resolved position far ahead of the checkpoint says
    // the sink is what is behind, not the source.
    listener.progressed(spec.ref(), checkpointTs, batch.resolvedTs());
    deliver(batch.events(), batch.resolvedTs()).onComplete(this::delivered);
  }

  /** When the sink write now outstanding began, in the lane scheduler's milliseconds; 0 when none is. Any thread. */
  public long sinkWriteOutstandingSince() {
    return sinkWriteOutstandingSince;
  }

  private void delivered(AsyncResult<Void> ar) {
    busy = false;
    if (blockedAt == null || ar.failed() || phase != Phase.RUNNING) {
      // Durable (or never to be written by this dispatcher): the memory goes back.
      releaseMemory();
    } else if (reservation != null) {
      // Blocked at a DDL: it keeps its batch's memory (which also keeps a DDL-dense firehose from outrunning
      // the barrier's control work), marked blocked so that its changefeed is never left waiting for memory
      // only blocked spans hold (the table trigger, which must reach this DDL too, reads without a reservation).
      reservation.block();
    }
    if (phase == Phase.STOPPING) {
      finishStop();
    } else if (ar.failed()) {
      fail(ar.cause(), SpanHold.SPAN_HOLD_SINK);
    } else if (blockedAt != null) {
      listener.blocked(spec.ref(), blockedAt);
    } else {
      awaitEvents();
    }
  }

  private void releaseMemory() {
    if (reservation != null) {
      reservation.release();
      reservation = null;
    }
  }

  /** Writes {@code events} up to the first DDL to block at (then holds the rest), or all of them. */
  private Future<Void> deliver(List<ChangeEvent> events, long resolvedTs) {
    int at = spec.redo() ? -1 : firstDdl(events);
    if (at < 0) {
      return write(events, resolvedTs);
    }
    DdlEvent ddl = (DdlEvent) events.get(at);
    return write(events.subList(0, at), ddl.commitTs() - 1).onSuccess(v -> {
      blockedAt = ddl;
      held = List.copyOf(events.subList(at + 1, events.size()));
      heldResolvedTs = resolvedTs;
    });
  }

  private static int firstDdl(List<ChangeEvent> events) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i) instanceof DdlEvent) {
        return i;
      }
    }
    return -1;
  }

  private Future<Void> write(List<ChangeEvent> events, long resolvedTs) {
    boolean recordIdle = events.isEmpty() && scheduler.nowMillis() - lastSinkWriteAt >= IDLE_CHECKPOINT_MILLIS;
    if (events.isEmpty() && !recordIdle) {
      // Nothing to make durable: the checkpoint may move up to the resolved ts at once.
      checkpointTs = Math.max(checkpointTs, resolvedTs);
      listener.progressed(spec.ref(), resolvedTs, resolvedTs);
      return Future.succeededFuture();
    }
    return sinkWrite(events, resolvedTs).onSuccess(v -> listener.progressed(spec.ref(), resolvedTs, resolvedTs));
  }

  /** Writes a batch covering {@code (checkpointTs, resolvedTs]}, fenced by the manager's current epoch. */
  private Future<Void> sinkWrite(List<ChangeEvent> events, long resolvedTs) {
    lastSinkWriteAt = scheduler.nowMillis();
    sinkWriteOutstandingSince = Math.max(1, lastSinkWriteAt);
    Future<Void> written;
    try {
      written = sink.write(new SinkBatch(spec.ref(), spec.span(), spec.redo(), epoch.getAsLong(), checkpointTs, events, resolvedTs));
      if (ProtocolMutation.EARLY_CHECKPOINT.on()) {
        // The simulator's deliberate bug: the checkpoint moves when the batch is handed over, not when it is durable.
        checkpointTs = Math.max(checkpointTs, resolvedTs);
        listener.progressed(spec.ref(), resolvedTs, resolvedTs);
      }
    } catch (RuntimeException e) {
      written = Future.failedFuture(e);
    }
    return written.onComplete(ar -> sinkWriteOutstandingSince = 0).onSuccess(v -> {
      checkpointTs = Math.max(checkpointTs, resolvedTs);
      if (!events.isEmpty()) {
        tenant.written(events.size(), EventSizes.of(events));
      }
    });
  }

  private void fail(Throwable cause) {
    fail(cause, SpanHold.SPAN_HOLD_SOURCE);
  }

  private void fail(Throwable cause, SpanHold side) {
    if (phase == Phase.STOPPING || phase == Phase.STOPPED) {
      finishStop();
      return;
    }
    phase = Phase.STOPPED;
    releaseMemory();
    if (subscription != null) {
      subscription.cancel();
    }
    stopped.tryComplete();
    listener.failed(spec.ref(), cause, side);
  }

  private void finishStop() {
    releaseMemory();
    if (subscription != null) {
      subscription.cancel();
    }
    phase = Phase.STOPPED;
    stopped.tryComplete();
  }
}
