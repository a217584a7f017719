package io.feedline.dispatcher.source.datagen;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.dispatcher.Spans;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
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
 * upstream head ({@link DatagenSpec#rate()}). Every batch is produced in a scheduler task of its own,
 * and scans a bounded number of ticks, so a subscription that is far behind never holds the event loop
 * for long and never recurses.
 */
public final class DatagenSource implements Source {

  /** Ticks one batch may scan: bounds the work of a batch when the span is sparse. */
  static final int MAX_TICKS_PER_BATCH = 4096;
  /** (table, tick) pairs one batch of the DDL span may look at: it checks every table at every tick. */
  static final int MAX_DDL_CHECKS_PER_BATCH = 1 << 18;

  private final DatagenSpec spec;
  private final DatagenModel model;
  private final Scheduler scheduler;
  private final Set<Subscription> open = new HashSet<>();

  public DatagenSource(DatagenSpec spec, Scheduler scheduler) {
    this.spec = spec;
    this.model = new DatagenModel(spec.seed(), spec.tables());
    this.scheduler = scheduler;
  }

  public DatagenModel model() {
    return model;
  }

  @Override
  public Future<SourceSubscription> subscribe(TableSpan span, long startTs) {
    Subscription s = new Subscription(span, startTs);
    open.add(s);
    return Future.succeededFuture(s);
  }

  @Override
  public List<TableInfo> tablesAt(long ts) {
    List<TableInfo> tables = new ArrayList<>();
    for (long t = 1; t <= model.tables(); t++) {
      if (model.existsAt(t, ts)) {
        tables.add(TableInfo.newBuilder().setTableId(t).setName("t" + t).build());
      }
    }
    return tables;
  }

  @Override
  public Future<Void> close() {
    List.copyOf(open).forEach(Subscription::cancel);
    return Future.succeededFuture();
  }

  /** The highest ts the upstream has produced so far. */
  long head() {
    long produced = spec.rate() == 0 ? Long.MAX_VALUE : scheduler.nowMillis() * spec.rate() / 1000;
    return spec.until() == 0 ? produced : Math.min(produced, spec.until());
  }

  private final class Subscription implements SourceSubscription {
    private final TableSpan span;
    private long cursor;
    private Promise<ChangeBatch> pending;
    private Scheduler.Cancellable timer;
    private boolean cancelled;

    Subscription(TableSpan span, long startTs) {
      this.span = span;
      this.cursor = startTs;
    }

    @Override
    public Future<ChangeBatch> next(int maxRows) {
      if (cancelled) {
        return Future.failedFuture(new SubscriptionCancelledException());
      }
      if (pending != null) {
        return Future.failedFuture(new IllegalStateException("next() called before the previous batch completed"));
      }
      pending = Promise.promise();
      Future<ChangeBatch> result = pending.future();
      awaitHead(maxRows);
      return result;
    }

    private void awaitHead(int maxRows) {
      long head = head();
      if (cursor < head) {
        timer = scheduler.schedule(0, () -> produce(maxRows));
      } else if (spec.rate() > 0 && (spec.until() == 0 || cursor < spec.until())) {
        // Wake up when the clock has produced the next tick.
        long dueAt = Math.floorDiv((cursor + 1) * 1000 + spec.rate() - 1, spec.rate());
        timer = scheduler.schedule(Math.max(1, dueAt - scheduler.nowMillis()), () -> awaitHead(maxRows));
      }
      // Past 'until' the upstream is idle for good: the batch completes only by cancel().
    }

    private void produce(int maxRows) {
      timer = null;
      long head = head();
      List<ChangeEvent> events = new ArrayList<>();
      long ts = cursor;
      long ticks = span.getTableId() == DDL_TABLE_ID ? Math.max(1, MAX_DDL_CHECKS_PER_BATCH / model.tables()) : MAX_TICKS_PER_BATCH;
      long last = Math.min(head, cursor + ticks);
      while (ts < last && events.size() < maxRows) {
        ts++;
        collect(ts, events);
      }
      cursor = ts;
      Promise<ChangeBatch> p = pending;
      pending = null;
      p.complete(new ChangeBatch(events, ts));
    }

    private void collect(long ts, List<ChangeEvent> into) {
      if (span.getTableId() == DDL_TABLE_ID) {
        for (long table = 1; table <= model.tables(); table++) {
          DdlEvent ddl = model.ddlAt(table, ts);
          if (ddl != null) {
            into.add(ddl);
          }
        }
        return;
      }
      for (RowChange row : model.rowsAt(span.getTableId(), ts)) {
        if (Spans.contains(span, DatagenModel.keyBytes(row.key()))) {
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
      if (pending != null) {
        Promise<ChangeBatch> p = pending;
        pending = null;
        p.fail(new SubscriptionCancelledException());
      }
    }
  }
}
