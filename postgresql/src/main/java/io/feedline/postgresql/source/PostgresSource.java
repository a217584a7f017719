package io.feedline.postgresql.source;

import com.google.protobuf.ByteString;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.time.Scheduler;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.endpoint.PersistedCheckpoints;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.EventSizes;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.schema.UnknownTableException;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.dispatcher.source.SubscriptionCancelledException;
import io.feedline.postgresql.source.ChangeAssembler.Transaction;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code postgresql} source of one changefeed on one node: <b>one</b> replication stream
 * ({@link ReplicationReader}) decodes each transaction once, and this class fans it out to the node's
 * dispatchers by table and key range. Everything here runs on the changefeed's data lane, except
 * {@link #tablesAt}, which asks the upstream on a thread of its own.
 *
 * <p>What the stream delivered is kept per table ({@link TableLog}) until every subscription that may read
 * it has: a table's log is trimmed to the lowest position its subscriptions have read, and a table with no
 * subscription here to the lowest of all of them, so a span added here later (a move, a failover) at a
 * position at or above that is served from memory. A span that needs older changes restarts the stream
 * from the lowest position any subscription needs (each subscription skips what it has already had, by
 * position, so nothing is delivered twice). The {@link ByteBudget} bounds what is kept: when it is spent
 * the reader stops reading until dispatchers catch up.
 */
public final class PostgresSource implements Source {

  private static final Logger LOG = LoggerFactory.getLogger(PostgresSource.class);
  /** Coalesces the subscriptions of one burst (a changefeed's start, a failover) into one (re)start. */
  static final long START_DELAY_MILLIS = 100;
  static final long TRIM_MILLIS = 50;
  /** How often the anchor slot is told the changefeed's persisted checkpoint (the coordinator persists about as often). */
  static final long ANCHOR_MILLIS = 5_000;
  /**
   * How long what every subscription here has read stays kept anyway (while the budget is less than half spent):
   * a span that moves or splits on this node resumes from its checkpoint, a little behind what it had read,
   * and is served from memory instead of restarting the stream.
   */
  static final long RETAIN_MILLIS = 10_000;
  /** Entries one poll looks at: bounds a poll's work when the table's other spans are busy and this one is not. */
  static final int MAX_ENTRIES_PER_POLL = 4096;

  private final String changefeed;
  private final Scheduler lane;
  private final CapturedTables tables;
  private final PastTables history;
  private final Map<Long, Future<List<TableInfo>>> asking = new ConcurrentHashMap<>();
  private final ByteBudget budget;
  private final ChangeStream reader;
  private final SourceMetrics metrics;
  private final OncePerKeyLogger errors = new OncePerKeyLogger(LOG, 64);
  private final Set<Subscription> subscriptions = new HashSet<>();
  private final Map<Long, TableLog> logs = new HashMap<>();
  private final Scheduler.Cancellable trimming;
  private final Scheduler.Cancellable anchoring;
  /** The current stream: its generation, where it started (-1 before the first), what it has resolved. */
  private long generation;
  private long streamFrom = -1;
  private long resolved;
  private boolean startScheduled;
  private boolean restartAlways;
  private RuntimeException lost;
  private boolean closed;

  /** The captured tables at a past position, which the upstream's DDL history tells (blocking work off the caller's thread). */
  @FunctionalInterface
  interface PastTables {
    Future<List<TableHistory.Table>> tablesAt(long position);

    /** Releases what answering took (its worker threads); the source is closing. */
    default Future<Void> close() {
      return Future.succeededFuture();
    }
  }

  /**
   * @param history answers {@link #tablesAt}
   * @param checkpoints the changefeed's persisted checkpoints, which the upstream's anchor slot follows
   * @param streams makes the node's stream, given where it reports to
   */
  PostgresSource(String changefeed, Scheduler lane, CapturedTables tables, PastTables history, ByteBudget budget, SourceMetrics metrics,
      PersistedCheckpoints checkpoints, Function<ReplicationReader.Listener, ChangeStream> streams) {
    this.changefeed = changefeed;
    this.lane = lane;
    this.tables = tables;
    this.history = history;
    this.budget = budget;
    this.metrics = metrics;
    this.reader = streams.apply(new ToLane());
    this.trimming = lane.periodic(TRIM_MILLIS, this::trim);
    // Every node's source does it; advancing an anchor that is already there is a no-op upstream.
    this.anchoring = lane.periodic(ANCHOR_MILLIS, () -> checkpoints.of(changefeed).onSuccess(cp -> cp.ifPresent(reader::advanceAnchor)));
  }

  @Override
  public Future<SourceSubscription> subscribe(TableSpan span, long startTs) {
    if (closed) {
      return Future.failedFuture(new SubscriptionCancelledException());
    }
    Subscription s = new Subscription(span, startTs);
    subscriptions.add(s);
    if (streamFrom < 0 || !servable(span.getTableId(), startTs)) {
      scheduleStart(false);
    }
    return Future.succeededFuture(s);
  }

  @Override
  public Future<List<TableInfo>> tablesAt(long ts) {
    // A maintainer waiting for its answer asks again every few hundred milliseconds: one question upstream per position.
    Future<List<TableInfo>> pending = asking.get(ts);
    if (pending != null) {
      return pending;
    }
    Future<List<TableInfo>> answer = history.tablesAt(ts)
        .map(found -> found.stream().map(t -> TableInfo.newBuilder().setTableId(t.oid()).setName(t.qualifiedName()).build()).toList());
    if (!answer.isComplete()) {
      asking.put(ts, answer);
      answer.onComplete(done -> asking.remove(ts, answer));
    }
    return answer;
  }

  @Override
  public Future<TableSchema> schemaAt(long tableId, long ts) {
    UpstreamTable table = tables.at(tableId, ts);
    return table != null ? Future.succeededFuture(table.toSchema())
        : Future.failedFuture(new UnknownTableException(tableId, ts, "the changefeed does not capture such a table there"));
  }

  @Override
  public Future<Void> close() {
    if (!closed) {
      closed = true;
      trimming.cancel();
      anchoring.cancel();
      reader.close();
      List.copyOf(subscriptions).forEach(Subscription::cancel);
      logs.values().forEach(log -> budget.release(log.bytes()));
      logs.clear();
      metrics.close();
      return history.close();
    }
    return Future.succeededFuture();
  }

  /** Whether the stream holds every change of {@code table} above {@code from}. */
  private boolean servable(long table, long from) {
    TableLog log = logs.get(table);
    return from >= (log != null ? log.retainedFrom() : streamFrom);
  }

  /**
   * (Re)starts the stream from the lowest position a subscription needs, as a new generation.
   *
   * @param always also when every subscription is served by the current stream (it failed)
   */
  private void scheduleStart(boolean always) {
    restartAlways |= always;
    if (startScheduled) {
      return;
    }
    startScheduled = true;
    lane.schedule(START_DELAY_MILLIS, () -> {
      startScheduled = false;
      boolean failed = restartAlways;
      restartAlways = false;
      if (closed || subscriptions.isEmpty()) {
        if (failed && !closed) {
          streamFrom = -1; // the failed stream is gone: the next subscription starts one
        }
        return;
      }
      long from = subscriptions.stream().mapToLong(Subscription::cursor).min().orElseThrow();
      if (!failed && streamFrom >= 0 && subscriptions.stream().allMatch(s -> servable(s.span.getTableId(), s.cursor))) {
        return; // arrivals since made every subscription servable after all
      }
      generation++;
      if (streamFrom >= 0) {
        metrics.restarted();
        LOG.info("event=source_stream_restart changefeed={} from={} generation={}", changefeed, Lsn.format(from), generation);
      }
      logs.values().forEach(log -> budget.release(log.bytes()));
      logs.clear();
      streamFrom = from;
      resolved = from;
      reader.start(generation, from);
    });
  }

  private void onTransaction(long gen, Transaction tx, long bytes) {
    if (gen != generation || closed) {
      budget.release(bytes);
      return;
    }
    Map<Long, List<ChangeEvent>> byTable = new LinkedHashMap<>();
    List<ChangeEvent> ddls = new ArrayList<>();
    for (ChangeEvent e : tx.events()) {
      byTable.computeIfAbsent(e.tableId(), t -> new ArrayList<>()).add(e);
      if (e instanceof DdlEvent) {
        ddls.add(e);
      }
    }
    long now = lane.nowMillis();
    byTable.forEach((table, events) -> log(table).append(tx.commitLsn(), events, EventSizes.of(events), now));
    if (!ddls.isEmpty()) {
      log(TableSpans.DDL_TABLE_ID).append(tx.commitLsn(), ddls, 0, now); // counted once, in the table's own log
    }
    metrics.delivered(tx.commitTimeMicros());
    resolved = Math.max(resolved, tx.commitLsn());
    // Only the tables it touched: the others hear of the resolved position with the next heartbeat.
    for (Subscription s : List.copyOf(subscriptions)) {
      long table = s.span.getTableId();
      if (byTable.containsKey(table) || (table == TableSpans.DDL_TABLE_ID && !ddls.isEmpty())) {
        s.wake();
      }
    }
  }

  private void onResolved(long gen, long position) {
    if (gen == generation && !closed && position > resolved) {
      resolved = position;
      List.copyOf(subscriptions).forEach(Subscription::wake);
    }
  }

  private void onFailed(long gen, Exception error, boolean changesLost) {
    metrics.failed();
    if (gen != generation || closed) {
      return;
    }
    if (changesLost) {
      lost = new IllegalStateException("changefeed " + changefeed + ": " + error.getMessage(), error);
      LOG.error("event=source_stream_lost changefeed={} error=\"{}\"", changefeed, error.getMessage());
      List.copyOf(subscriptions).forEach(Subscription::wake);
    } else {
      errors.warn(error.getClass().getName(), () -> "event=source_stream_failed changefeed=" + changefeed + " error=\"" + error.getMessage()
          + "\" retrying=true");
      // From where the spans are, as a new generation: the failed stream may have handed over part of a range.
      scheduleStart(true);
    }
  }

  private TableLog log(long table) {
    return logs.computeIfAbsent(table, t -> new TableLog(streamFrom));
  }

  /** Lets go of what no subscription here needs any more (see the class comment). */
  private void trim() {
    if (logs.isEmpty()) {
      return;
    }
    Map<Long, Long> lowestByTable = new HashMap<>();
    long lowest = resolved;
    for (Subscription s : subscriptions) {
      lowestByTable.merge(s.span.getTableId(), s.cursor, Math::min);
      lowest = Math.min(lowest, s.cursor);
    }
    long everyone = lowest;
    long arrivedBefore = budget.used() * 2 > budget.limit() ? Long.MAX_VALUE : lane.nowMillis() - RETAIN_MILLIS;
    logs.forEach((table, log) -> budget.release(log.trimThrough(lowestByTable.getOrDefault(table, everyone), arrivedBefore)));
  }

  /** The changes of one table the stream delivered, by commit position, each transaction's in one entry. */
  static final class TableLog {

    private record Entry(long position, List<ChangeEvent> events, long bytes, long arrivedAt) {}

    private final ArrayList<Entry> entries = new ArrayList<>();
    private int first;
    private long retainedFrom;
    private long bytes;

    TableLog(long retainedFrom) {
      this.retainedFrom = retainedFrom;
    }

    long retainedFrom() {
      return retainedFrom;
    }

    long bytes() {
      return bytes;
    }

    void append(long position, List<ChangeEvent> events, long size, long arrivedAt) {
      entries.add(new Entry(position, events, size, arrivedAt));
      bytes += size;
    }

    /** Drops the entries at or below {@code position} that arrived before {@code arrivedBefore}; returns their bytes. */
    long trimThrough(long position, long arrivedBefore) {
      long freed = 0;
      while (first < entries.size() && entries.get(first).position() <= position && entries.get(first).arrivedAt() < arrivedBefore) {
        Entry gone = entries.get(first);
        freed += gone.bytes();
        // The log holds every change above the last entry it let go of.
        retainedFrom = Math.max(retainedFrom, gone.position());
        entries.set(first, null);
        first++;
      }
      if (first > 0 && (first == entries.size() || first >= 1024)) {
        entries.subList(0, first).clear();
        first = 0;
      }
      bytes -= freed;
      return freed;
    }

    /** The index of the first entry above {@code position}. */
    int after(long position) {
      int lo = first;
      int hi = entries.size();
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (entries.get(mid).position() <= position) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }
  }

  private final class Subscription implements SourceSubscription {
    private final TableSpan span;
    /** The position read through: every change of the span at or below it has been delivered. */
    private long cursor;
    private Promise<Void> waiting;
    private boolean cancelled;

    Subscription(TableSpan span, long startTs) {
      this.span = span;
      this.cursor = startTs;
    }

    long cursor() {
      return cursor;
    }

    @Override
    public ChangeBatch poll(int maxRows) {
      if (cancelled) {
        throw new SubscriptionCancelledException();
      }
      if (lost != null) {
        throw lost;
      }
      long table = span.getTableId();
      if (streamFrom < 0 || cursor >= resolved || !servable(table, cursor)) {
        return null;
      }
      TableLog log = logs.get(table);
      List<ChangeEvent> events = new ArrayList<>();
      long through = resolved;
      if (log != null) {
        int scanned = 0;
        for (int i = log.after(cursor); i < log.entries.size(); i++) {
          if ((!events.isEmpty() && events.size() >= maxRows) || scanned >= MAX_ENTRIES_PER_POLL) {
            // Stop before entry i: everything through the previous one (scanned, so above the cursor) is delivered.
            through = log.entries.get(i - 1).position();
            break;
          }
          collect(log.entries.get(i).events(), events);
          scanned++;
        }
      }
      if (through <= cursor) {
        return null;
      }
      cursor = through;
      return new ChangeBatch(events, through);
    }

    private void collect(List<ChangeEvent> entry, List<ChangeEvent> into) {
      if (span.getTableId() == TableSpans.DDL_TABLE_ID) {
        entry.stream().filter(e -> e.commitTs() > cursor).forEach(into::add);
        return;
      }
      for (ChangeEvent e : entry) {
        // An entry's DDLs sit just below its commit position: a cursor between them has had the earlier ones.
        if (e.commitTs() <= cursor) {
          continue;
        }
        if (e instanceof RowChange row ? contains(row.key()) : ((DdlEvent) e).type() != DdlEvent.Type.CREATE_TABLE) {
          into.add(e);
        }
      }
    }

    private boolean contains(ByteString key) {
      return TableSpans.contains(span, key);
    }

    @Override
    public Future<Void> available() {
      if (cancelled) {
        return Future.failedFuture(new SubscriptionCancelledException());
      }
      if (lost != null) {
        return Future.failedFuture(lost);
      }
      if (streamFrom >= 0 && cursor < resolved && servable(span.getTableId(), cursor)) {
        return Future.succeededFuture();
      }
      if (waiting == null) {
        waiting = Promise.promise();
      }
      return waiting.future();
    }

    /** Completes a pending {@link #available} (the caller polls and finds out whether there is something). */
    void wake() {
      if (waiting != null) {
        Promise<Void> p = waiting;
        waiting = null;
        if (lost != null) {
          p.fail(lost);
        } else {
          p.complete();
        }
      }
    }

    @Override
    public void cancel() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      subscriptions.remove(this);
      if (waiting != null) {
        Promise<Void> p = waiting;
        waiting = null;
        p.fail(new SubscriptionCancelledException());
      }
    }
  }

  /** Hands the reader's news over to the lane. */
  private final class ToLane implements ReplicationReader.Listener {

    @Override
    public void started(long gen, long from) {
      lane.schedule(0, () -> LOG.info("event=source_stream_started changefeed={} from={} generation={}", changefeed, Lsn.format(from), gen));
    }

    @Override
    public void transaction(long gen, Transaction transaction, long bytes) {
      lane.schedule(0, () -> onTransaction(gen, transaction, bytes));
    }

    @Override
    public void resolved(long gen, long position) {
      lane.schedule(0, () -> onResolved(gen, position));
    }

    @Override
    public void failed(long gen, Exception error, boolean changesLost) {
      lane.schedule(0, () -> onFailed(gen, error, changesLost));
    }

    @Override
    public void heartbeat(long writtenMillis) {
      metrics.heartbeat(writtenMillis);
    }

    @Override
    public void retained(long bytes) {
      metrics.retained(bytes);
    }
  }
}
