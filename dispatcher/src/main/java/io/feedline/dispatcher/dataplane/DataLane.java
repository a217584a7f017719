package io.feedline.dispatcher.dataplane;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.EventSizes;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One data thread's work. The dispatchers of the changefeeds placed on this lane take turns: a turn reads
 * one batch from a source and hands it to the sink. Turns go round the changefeeds that have work (one
 * turn each per round), and within a changefeed round its dispatchers in the order they asked, so a
 * firehose of ten thousand spans and a trickle of three get the same number of turns per round, and the
 * spans of one changefeed share its turns evenly. A turn starts only with memory reserved from its
 * changefeed's {@link MemoryQuota.Account}; a changefeed without room sits out until a release wakes it.
 *
 * <p>A context task runs at most {@link #MAX_TURNS_PER_TASK} turns or {@link #MAX_TASK_NANOS}, then
 * yields, so the lane's timers and sink completions run in between. Control work never runs here: the
 * lane is a context of its own on the data worker pool. Everything in this class runs on that context.
 */
public final class DataLane {

  private static final Logger LOG = LoggerFactory.getLogger(DataLane.class);

  static final int MAX_TURNS_PER_TASK = 64;
  static final long MAX_TASK_NANOS = 2_000_000;
  /** The most memory one turn reserves: with ~200-byte rows, a full batch of 1024. */
  static final long MAX_TURN_BYTES = 256 * 1024;
  /** What an event is assumed to weigh before a changefeed's first batch says otherwise. */
  static final double INITIAL_EVENT_BYTES = 256;

  private final int index;
  private final Scheduler scheduler;
  private final EndpointContext endpoints;
  private final Counter memoryWaits;
  /** Bounds one task's turns in time: {@link System#nanoTime} on a node, the scheduler's own time on simulated time. */
  private final LongSupplier nanoTime;
  private final ArrayDeque<Tenant> rotation = new ArrayDeque<>();
  private final AtomicInteger tenants = new AtomicInteger();
  private boolean runQueued;

  /**
   * @param scheduler runs tasks on the lane's context
   * @param nanoTime what bounds a task's turns in time
   * @param memoryWaits counts the times a changefeed sat out for lack of memory
   * @param metrics where the sources and sinks on this lane register their meters
   */
  public DataLane(int index, Vertx vertx, Scheduler scheduler, LongSupplier nanoTime, Counter memoryWaits, MeterRegistry metrics) {
    this.index = index;
    this.scheduler = scheduler;
    this.nanoTime = nanoTime;
    this.endpoints = new EndpointContext(vertx, scheduler, metrics);
    this.memoryWaits = memoryWaits;
  }

  public int index() {
    return index;
  }

  /** Timers and tasks on this lane's context. */
  public Scheduler scheduler() {
    return scheduler;
  }

  /** What the sources and sinks of changefeeds on this lane run with: this lane's context. */
  public EndpointContext endpointContext() {
    return endpoints;
  }

  /** Runs {@code task} on the lane's context, later (never inline). */
  public void execute(Runnable task) {
    scheduler.schedule(0, task);
  }

  /** Changefeeds placed here; safe from any thread. */
  int tenantCount() {
    return tenants.get();
  }

  /** @param onClose runs once when the tenant closes (the data plane drops its meters) */
  Tenant tenant(MemoryQuota.Account account, Counter events, Counter bytes, Runnable onClose) {
    tenants.incrementAndGet();
    return new Tenant(account, events, bytes, onClose);
  }

  private void enlist(Tenant t) {
    if (!t.enlisted && !t.closed && (!t.unmetered.isEmpty() || !t.parked && !t.waiting.isEmpty())) {
      t.enlisted = true;
      rotation.add(t);
      if (!runQueued) {
        runQueued = true;
        scheduler.schedule(0, this::runTurns);
      }
    }
  }

  private void runTurns() {
    runQueued = false;
    long deadline = nanoTime.getAsLong() + MAX_TASK_NANOS;
    int turns = 0;
    while (!rotation.isEmpty() && turns < MAX_TURNS_PER_TASK && (turns == 0 || nanoTime.getAsLong() < deadline)) {
      Tenant t = rotation.poll();
      t.enlisted = false;
      if (t.closed) {
        continue;
      }
      Consumer<MemoryQuota.Reservation> step;
      MemoryQuota.Reservation reserved;
      if (!t.unmetered.isEmpty()) {
        step = t.unmetered.poll();
        reserved = t.account.unmetered();
      } else if (t.parked || t.waiting.isEmpty()) {
        continue;
      } else {
        long bytes = t.turnBytes();
        reserved = t.account.tryReserve(bytes);
        if (reserved == null) {
          // Its share may be held by spans blocked at a DDL that waits for one of the spans parked here.
          reserved = t.account.forceReserve(bytes);
        }
        if (reserved == null) {
          t.parked = true;
          memoryWaits.increment();
          t.account.whenRoom(bytes, () -> execute(() -> {
            t.parked = false;
            enlist(t);
          }));
          continue;
        }
        step = t.waiting.poll();
      }
      enlist(t);
      turns++;
      try {
        step.accept(reserved);
      } catch (RuntimeException e) {
        reserved.release();
        LOG.warn("event=data_turn_failed lane={} changefeed={}", index, t.account.name(), e);
      }
    }
    if (!rotation.isEmpty() && !runQueued) {
      runQueued = true;
      scheduler.schedule(0, this::runTurns);
    }
  }

  /** One changefeed's place on this lane: its turns, its memory account and its sink counters. */
  public final class Tenant {
    private final MemoryQuota.Account account;
    private final Counter events;
    private final Counter bytes;
    private final Runnable onClose;
    private final ArrayDeque<Consumer<MemoryQuota.Reservation>> waiting = new ArrayDeque<>();
    private final ArrayDeque<Consumer<MemoryQuota.Reservation>> unmetered = new ArrayDeque<>();
    private boolean enlisted;
    private boolean parked;
    private boolean closed;
    private double eventBytes = INITIAL_EVENT_BYTES;

    private Tenant(MemoryQuota.Account account, Counter events, Counter bytes, Runnable onClose) {
      this.account = account;
      this.events = events;
      this.bytes = bytes;
      this.onClose = onClose;
    }

    public DataLane lane() {
      return DataLane.this;
    }

    /**
     * Queues {@code step} for one of this changefeed's turns. It runs on the lane with memory reserved for
     * it, which it must {@link MemoryQuota.Reservation#release release} once the sink has what it read. An
     * unmetered turn ({@code metered} false) never waits for memory and reserves none (what it reads is
     * counted once weighed). For the table trigger, which reads only DDLs:
     * spans blocked at a DDL keep the memory of their batch until the trigger has reached that DDL too, so
     * a trigger that waited for their memory could wait for ever.
     */
    public void turn(Consumer<MemoryQuota.Reservation> step, boolean metered) {
      if (!closed) {
        (metered ? waiting : unmetered).add(step);
        enlist(this);
      }
    }

    /** How many events a turn holding {@code reserved} may read: what fits, at least one (an unmetered turn's), at most {@code max}. */
    public int eventsFor(MemoryQuota.Reservation reserved, int max) {
      return (int) Math.max(1, Math.min(max, reserved.bytes() / eventBytes));
    }

    /** What {@code read} weighs; also learns the changefeed's bytes per event for the next turns. */
    public long weigh(List<ChangeEvent> read) {
      long weight = EventSizes.of(read);
      if (!read.isEmpty()) {
        eventBytes += ((double) weight / read.size() - eventBytes) / 8;
      }
      return weight;
    }

    /** The sink acknowledged {@code count} events weighing {@code weight} bytes. */
    public void written(int count, long weight) {
      events.increment(count);
      bytes.increment(weight);
    }

    /** The changefeed left this node: queued turns are dropped and its account closes. Call on the lane. */
    public void close() {
      if (!closed) {
        closed = true;
        waiting.clear();
        unmetered.clear();
        account.close();
        tenants.decrementAndGet();
        onClose.run();
      }
    }

    private long turnBytes() {
      return (long) Math.min(MAX_TURN_BYTES, Math.max(account.share() / 4, eventBytes));
    }
  }
}
