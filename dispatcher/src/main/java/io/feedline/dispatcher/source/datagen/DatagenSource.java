package io.feedline.dispatcher.source.datagen;

import io.feedline.common.time.Scheduler;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.schema.UnknownTableException;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.dispatcher.source.SubscriptionCancelledException;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code datagen} source: subscriptions read {@link DatagenModel} from their start ts up to the
 * upstream head ({@link DatagenSpec#rate()}). Positions are kept in ticks and shown in TSO space through
 * the model's {@link TickTimeline}. A poll scans a bounded number of ticks, so a subscription that is far
 * behind never holds its data lane for long; waiting for the head is a timer on the lane's scheduler.
 *
 * <p>What a span sees (the DDL barrier's contract): the table trigger's span (table {@link TableSpans#DDL_TABLE_ID})
 * every DDL; a span of table {@code X} the row changes of its keys and the DDLs of {@code X} except
 * CREATE TABLE (a span of {@code X} exists only from {@code X}'s create ts on).
 */
public final class DatagenSource implements Source {

  /** Ticks one batch may scan: bounds the work of a batch when the span is sparse. */
  static final int MAX_TICKS_PER_BATCH = 4096;

  private final DatagenSpec spec;
  private final DatagenModel model;
  private final TickTimeline timeline;
  private final Scheduler scheduler;
  private final long untilTick;
  private final Set<Subscription> open = new HashSet<>();

  public DatagenSource(DatagenSpec spec, Scheduler scheduler) {
    this.spec = spec;
    this.model = DatagenModel.of(spec);
    this.timeline = model.timeline();
    this.scheduler = scheduler;
    this.untilTick = spec.until() == 0 ? timeline.maxTick() : Math.min(timeline.maxTick(), timeline.lastTickAtOrBelow(spec.until()));
  }

  public DatagenModel model() {
    return model;
  }

  @Override
  public Future<SourceSubscription> subscribe(TableSpan span, long startTs) {
    Subscription s = new Subscription(span, timeline.lastTickAtOrBelow(Math.max(0, startTs)));
    open.add(s);
    return Future.succeededFuture(s);
  }

  @Override
  public Future<List<TableInfo>> tablesAt(long ts) {
    List<TableInfo> tables = new ArrayList<>();
    // The tables as the events at or below ts left them: the last tick committed by then decides.
    long tick = model.timeline().lastTickAtOrBelow(ts);
    for (long t = 1; t <= model.tables(); t++) {
      long created = model.createTickAt(t, tick);
      if (created >= 0) {
        tables.add(TableInfo.newBuilder().setTableId(t).setName("t" + t).setCreateTs(timeline.commitTs(created)).build());
      }
    }
    return Future.succeededFuture(tables);
  }

  @Override
  public Future<TableSchema> schemaAt(long tableId, long ts) {
    TableSchema schema = model.schemaAt(tableId, timeline.lastTickAtOrBelow(ts));
    return schema != null ? Future.succeededFuture(schema)
        : Future.failedFuture(new UnknownTableException(tableId, ts, "datagen has no such table there"));
  }

  @Override
  public Future<Void> close() {
    List.copyOf(open).forEach(Subscription::cancel);
    return Future.succeededFuture();
  }

  /** The last tick the upstream has produced so far. */
  long headTick() {
    long produced = spec.rate() == 0 ? untilTick : timeline.producedBy(scheduler.nowMillis());
    return Math.min(produced, untilTick);
  }

  private final class Subscription implements SourceSubscription {
    private final TableSpan span;
    /** The last tick delivered (or skipped as below the start ts). */
    private long cursor;
    private Promise<Void> waiting;
    private Scheduler.Cancellable timer;
    private boolean cancelled;

    Subscription(TableSpan span, long startTick) {
      this.span = span;
      this.cursor = startTick;
    }

    @Override
    public ChangeBatch poll(int maxRows) {
      if (cancelled) {
        throw new SubscriptionCancelledException();
      }
      long head = headTick();
      if (cursor >= head) {
        return null;
      }
      List<ChangeEvent> events = new ArrayList<>();
      long tick = cursor;
      long last = Math.min(head, cursor + MAX_TICKS_PER_BATCH);
      while (tick < last && events.size() < maxRows) {
        tick++;
        collect(tick, events);
      }
      cursor = tick;
      return new ChangeBatch(events, timeline.commitTs(tick));
    }

    @Override
    public Future<Void> available() {
      if (cancelled) {
        return Future.failedFuture(new SubscriptionCancelledException());
      }
      if (cursor < headTick()) {
        return Future.succeededFuture();
      }
      if (waiting != null) {
        return waiting.future();
      }
      waiting = Promise.promise();
      Future<Void> wait = waiting.future();
      // The head may have moved since the check above: awaitHead then completes the wait at once.
      awaitHead();
      return wait;
    }

    private void awaitHead() {
      timer = null;
      if (cursor < headTick()) {
        Promise<Void> p = waiting;
        waiting = null;
        p.complete();
      } else if (spec.rate() > 0 && cursor < untilTick) {
        // Wake up when the clock has produced the next tick.
        long dueAt = timeline.producedAt(cursor + 1);
        timer = scheduler.schedule(Math.max(1, dueAt - scheduler.nowMillis()), this::awaitHead);
      }
      // Past 'until' the upstream is idle for good: only cancel() ends the wait.
    }

    private void collect(long tick, List<ChangeEvent> into) {
      long table = span.getTableId();
      if (table == TableSpans.DDL_TABLE_ID) {
        DdlEvent ddl = model.ddlAt(tick);
        if (ddl != null) {
          into.add(ddl);
        }
        return;
      }
      DdlEvent ddl = model.ddlAt(table, tick);
      if (ddl != null) {
        if (ddl.type() != DdlEvent.Type.CREATE_TABLE) {
          into.add(ddl);
        }
        return;
      }
      for (RowChange row : model.rowsAt(table, tick)) {
        if (TableSpans.contains(span, row.key())) {
          into.add(row);
        }
      }
    }
    @Override
    public void cancel() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      open.remove(this);
      if (timer != null) {
        timer.cancel();
        timer = null;
      }
      if (waiting != null) {
        Promise<Void> p = waiting;
        waiting = null;
        p.fail(new SubscriptionCancelledException());
      }
    }
  }
}
