package io.feedline.dispatcher.source.datagen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.span.TableSpans;
import io.feedline.common.testing.TestSeeds;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.dispatcher.source.SubscriptionCancelledException;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DatagenSourceTest {

  private static final TickTimeline UNTHROTTLED = TickTimeline.forRate(0);
  /** Tick 20 000 of an unthrottled upstream, as a TSO ts. */
  private static final long UNTIL = UNTHROTTLED.commitTs(20_000);
  private static final long SEED = TestSeeds.seed(7);
  private static final String REPLAY = TestSeeds.replay(SEED, DatagenSourceTest.class);

  private final ManualScheduler scheduler = new ManualScheduler(0);

  private DatagenSource source(long seed, int tables, long rate, long until) {
    return new DatagenSource(new DatagenSpec(tables, seed, rate, until), scheduler);
  }

  private static TableSpan table(long id) {
    return TableSpan.newBuilder().setTableId(id).build();
  }

  private static TableSpan keys(long id, long fromKey, long toKey) {
    TableSpan.Builder b = TableSpan.newBuilder().setTableId(id).setStartKey(DatagenModel.keyBytes(fromKey));
    if (toKey >= 0) {
      b.setEndKey(DatagenModel.keyBytes(toKey));
    }
    return b.build();
  }

  /** Polls everything up to {@code until}, the test thread playing the data lane. */
  private List<ChangeEvent> readAll(DatagenSource source, TableSpan span, long startTs, long until, int batchRows) {
    return readAll(source, scheduler, span, startTs, until, batchRows);
  }

  private static List<ChangeEvent> readAll(DatagenSource source, ManualScheduler scheduler, TableSpan span, long startTs, long until,
      int batchRows) {
    SourceSubscription sub = source.subscribe(span, startTs).result();
    List<ChangeEvent> out = new ArrayList<>();
    long resolved = startTs;
    while (resolved < until) {
      assertThat(sub.available().succeeded()).as("an unthrottled upstream has events at hand until its end").isTrue();
      ChangeBatch batch = sub.poll(batchRows);
      assertThat(batch).as("available means a poll returns a batch").isNotNull();
      assertThat(batch.resolvedTs()).isGreaterThan(resolved);
      for (ChangeEvent e : batch.events()) {
        assertThat(e.commitTs()).isGreaterThan(resolved).isLessThanOrEqualTo(batch.resolvedTs());
      }
      out.addAll(batch.events());
      resolved = batch.resolvedTs();
    }
    sub.cancel();
    return out;
  }

  @Test
  void replayFromAnyStartTsIsExactlyTheSuffixOfTheFullHistory() {
    for (TableSpan span : List.of(table(3), keys(5, 10, 200), table(TableSpans.DDL_TABLE_ID))) {
      List<ChangeEvent> full = readAll(source(SEED, 8, 0, UNTIL), span, 0, UNTIL, 1000);
      assertThat(full).as(REPLAY).isNotEmpty();
      // On ticks, between ticks (TSO logical parts no tick has) and just below a tick.
      long[] starts = {1, UNTHROTTLED.commitTs(777), UNTHROTTLED.commitTs(2049) + 5, UNTHROTTLED.commitTs(5000) - 1,
          UNTHROTTLED.commitTs(12_345), UNTHROTTLED.commitTs(19_999) + 1};
      for (long start : starts) {
        // A fresh source with other batch sizes: nothing may depend on how the stream was cut.
        List<ChangeEvent> replayed = readAll(source(SEED, 8, 0, UNTIL), span, start, UNTIL, 37);
        assertThat(replayed).as("%s from %d; %s", span.getTableId(), start, REPLAY)
            .isEqualTo(full.stream().filter(e -> e.commitTs() > start).toList());
      }
    }
  }

  @Test
  void replayAtAFastRateFromATsoStartTsOfNowIsIdenticalOnEveryNode() {
    // 2500 ticks/s: several ticks per millisecond, told apart by the logical part.
    long nowMs = 1_795_996_800_000L;
    TickTimeline timeline = TickTimeline.forRate(2500);
    long start = nowMs << 18 | 3;
    long until = timeline.commitTs(timeline.lastTickAtOrBelow(start) + 12_000);
    for (TableSpan span : List.of(table(2), table(TableSpans.DDL_TABLE_ID))) {
      ManualScheduler nodeA = new ManualScheduler(nowMs + 60_000);
      ManualScheduler nodeB = new ManualScheduler(nowMs + 3_600_000);
      List<ChangeEvent> onA = readAll(new DatagenSource(new DatagenSpec(5, SEED, 2500, until), nodeA), nodeA, span, start, until, 300);
      List<ChangeEvent> onB = readAll(new DatagenSource(new DatagenSpec(5, SEED, 2500, until), nodeB), nodeB, span, start, until, 41);
      assertThat(onA).as(REPLAY).isNotEmpty().isEqualTo(onB);
      assertThat(onA).allSatisfy(e -> assertThat(e.commitTs()).isGreaterThan(start).isLessThanOrEqualTo(until));
      long mid = onA.get(onA.size() / 2).commitTs();
      assertThat(readAll(new DatagenSource(new DatagenSpec(5, SEED, 2500, until), nodeB), nodeB, span, mid, until, 77))
          .isEqualTo(onA.stream().filter(e -> e.commitTs() > mid).toList());
    }
  }

  @Test
  void splitSpansTogetherCarryExactlyTheTableAndSeedsDiffer() {
    List<ChangeEvent> whole = readAll(source(SEED, 4, 0, UNTIL), table(2), 0, UNTIL, 500);
    List<ChangeEvent> low = readAll(source(SEED, 4, 0, UNTIL), keys(2, 0, 300), 0, UNTIL, 500);
    List<ChangeEvent> high = readAll(source(SEED, 4, 0, UNTIL), keys(2, 300, -1), 0, UNTIL, 500);
    assertThat(rows(low)).isNotEmpty();
    assertThat(rows(high)).isNotEmpty();
    List<ChangeEvent> merged = new ArrayList<>(rows(low));
    merged.addAll(rows(high));
    assertThat(merged).containsExactlyInAnyOrderElementsOf(rows(whole));
    // Every span of a table sees its table's DDLs, so each can block at them.
    assertThat(ddls(low)).isNotEmpty().isEqualTo(ddls(high)).isEqualTo(ddls(whole));
    assertThat(readAll(source(SEED + 1, 4, 0, UNTIL), table(2), 0, UNTIL, 500)).isNotEqualTo(whole);
  }

  @Test
  void theTriggerSeesEveryDdlAndATableSpanItsOwnExceptCreate() {
    List<ChangeEvent> trigger = readAll(source(SEED, 4, 0, UNTIL), table(TableSpans.DDL_TABLE_ID), 0, UNTIL, 500);
    assertThat(trigger).allSatisfy(e -> assertThat(e).isInstanceOf(DdlEvent.class));
    assertThat(trigger.stream().map(ChangeEvent::commitTs).distinct().count()).as("one DDL per commit ts").isEqualTo(trigger.size());
    for (long t = 1; t <= 4; t++) {
      long table = t;
      List<ChangeEvent> own = ddls(readAll(source(SEED, 4, 0, UNTIL), table(table), 0, UNTIL, 500));
      assertThat(own).as("table %d; %s", table, REPLAY).isNotEmpty()
          .isEqualTo(trigger.stream().filter(e -> e.tableId() == table && ((DdlEvent) e).type() != DdlEvent.Type.CREATE_TABLE).toList());
    }
  }

  private static List<ChangeEvent> rows(List<ChangeEvent> events) {
    return events.stream().filter(e -> e instanceof RowChange).toList();
  }

  private static List<ChangeEvent> ddls(List<ChangeEvent> events) {
    return events.stream().filter(e -> e instanceof DdlEvent).toList();
  }

  /** Applies the history as a downstream would: every change must make sense for the table's state. */
  @Test
  void historyIsConsistentAndCoversEveryKindOfChange() {
    int tables = 6;
    DatagenModel model = new DatagenModel(SEED, tables, TickTimeline.forRate(1000));
    Set<RowChange.Op> ops = EnumSet.noneOf(RowChange.Op.class);
    Set<DdlEvent.Type> ddls = EnumSet.noneOf(DdlEvent.Type.class);
    Map<Long, Long> ddlTicks = new HashMap<>();
    for (long t = 1; t <= tables; t++) {
      boolean exists = false;
      long createdAt = -1;
      Map<Long, Map<String, Object>> rows = new HashMap<>();
      for (long tick = 1; tick <= 30_000; tick++) {
        for (ChangeEvent e : model.eventsAt(t, tick)) {
          String at = "table " + t + " tick " + tick + " " + e + "; " + REPLAY;
          assertThat(e.commitTs()).as(at).isEqualTo(model.timeline().commitTs(tick));
          if (e instanceof DdlEvent ddl) {
            assertThat(ddlTicks.put(tick, t)).as("no other table has a DDL at this tick: " + at).isNull();
            assertThat(model.rowsAt(t, tick)).as(at).isEmpty();
            ddls.add(ddl.type());
            switch (ddl.type()) {
              case CREATE_TABLE -> {
                assertThat(exists).as(at).isFalse();
                exists = true;
                createdAt = tick;
              }
              case DROP_TABLE -> {
                assertThat(exists).as(at).isTrue();
                exists = false;
                rows.clear();
              }
              case TRUNCATE_TABLE -> rows.clear();
              case ADD_COLUMN -> assertThat(exists).as(at).isTrue();
            }
            continue;
          }
          RowChange row = (RowChange) e;
          ops.add(row.op());
          assertThat(exists).as(at).isTrue();
          switch (row.op()) {
            case INSERT -> assertThat(rows.put(DatagenModel.id(row.key()), row.after())).as(at).isNull();
            case UPDATE -> assertThat(rows.put(DatagenModel.id(row.key()), row.after())).as(at).isEqualTo(row.before());
            case DELETE -> assertThat(rows.remove(DatagenModel.id(row.key()))).as(at).isEqualTo(row.before());
          }
        }
        assertThat(model.existsAt(t, tick)).as("table %d exists at tick %d as its DDLs left it; %s", t, tick, REPLAY).isEqualTo(exists);
        // A new maintainer starts an uncovered table at its create ts: it must be this incarnation's CREATE.
        assertThat(model.createTickAt(t, tick)).as("table %d's incarnation at tick %d began at its last CREATE; %s", t, tick, REPLAY)
            .isEqualTo(exists ? createdAt : -1);
      }
    }
    assertThat(ops).containsExactlyInAnyOrder(RowChange.Op.values());
    assertThat(ddls).containsExactlyInAnyOrderElementsOf(DatagenModel.DDL_KINDS);
  }

  @Test
  void aRateBoundUpstreamFollowsTheClockWithoutBlocking() {
    DatagenSource source = source(SEED, 2, 1000, 0);
    SourceSubscription sub = source.subscribe(table(1), 0).result();
    assertThat(sub.poll(100)).as("nothing produced at t=0").isNull();
    Future<Void> first = sub.available();
    scheduler.runDue();
    assertThat(first.isComplete()).isFalse();
    scheduler.advance(1);
    assertThat(first.succeeded()).as("woken when the first tick was produced, at t=1ms").isTrue();
    scheduler.advance(249);
    ChangeBatch batch = sub.poll(100);
    assertThat(batch.resolvedTs()).as("a poll reads up to the head, not only the tick that woke it").isGreaterThan(ms(1));
    long resolved = batch.resolvedTs();
    for (batch = sub.poll(100); batch != null; batch = sub.poll(100)) {
      resolved = batch.resolvedTs();
    }
    assertThat(resolved).isEqualTo(ms(250));
    Future<Void> caughtUp = sub.available();
    scheduler.runDue();
    assertThat(caughtUp.isComplete()).isFalse();
    scheduler.advance(1);
    assertThat(caughtUp.succeeded()).isTrue();
    assertThat(sub.poll(100).resolvedTs()).isEqualTo(ms(251));

    Future<Void> pending = sub.available();
    sub.cancel();
    assertThat(pending.cause()).isInstanceOf(SubscriptionCancelledException.class);
    assertThat(sub.available().cause()).isInstanceOf(SubscriptionCancelledException.class);
    assertThatThrownBy(() -> sub.poll(10)).isInstanceOf(SubscriptionCancelledException.class);
    assertThat(scheduler.pending()).as("cancel leaves no timer behind").isZero();
  }

  private static long ms(long millis) {
    return millis << 18;
  }

  @Test
  void pastUntilTheUpstreamIsIdleUntilCancelled() {
    long lastTick = new DatagenModel(SEED, 2, UNTHROTTLED).firstCreateTick(1) + 100;
    long until = UNTHROTTLED.commitTs(lastTick) + 7;
    DatagenSource source = source(SEED, 2, 0, until);
    assertThat(readAll(source, table(1), 0, UNTHROTTLED.commitTs(lastTick), 1000)).as(REPLAY).isNotEmpty();
    SourceSubscription sub = source.subscribe(table(1), UNTHROTTLED.commitTs(lastTick)).result();
    assertThat(sub.poll(10)).isNull();
    Future<Void> idle = sub.available();
    scheduler.advance(60_000);
    assertThat(idle.isComplete()).isFalse();
    source.close();
    assertThat(idle.cause()).isInstanceOf(SubscriptionCancelledException.class);
  }
}
