package io.feedline.dispatcher.source.datagen;

import static org.assertj.core.api.Assertions.assertThat;

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

  private static final long UNTIL = 20_000;
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

  /** Pulls everything up to {@code until}, the test thread playing the event loop. */
  private List<ChangeEvent> readAll(DatagenSource source, TableSpan span, long startTs, long until, int batchRows) {
    SourceSubscription sub = source.subscribe(span, startTs).result();
    List<ChangeEvent> out = new ArrayList<>();
    long resolved = startTs;
    while (resolved < until) {
      Future<ChangeBatch> next = sub.next(batchRows);
      scheduler.runDue();
      assertThat(next.succeeded()).as("a batch is produced in one scheduler turn").isTrue();
      ChangeBatch batch = next.result();
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
    for (TableSpan span : List.of(table(3), keys(5, 10, 200), table(DatagenSource.DDL_TABLE_ID))) {
      List<ChangeEvent> full = readAll(source(SEED, 8, 0, UNTIL), span, 0, UNTIL, 1000);
      assertThat(full).as(REPLAY).isNotEmpty();
      for (long start : new long[] {1, 777, 2049, 5000, 12_345, 19_999}) {
        // A fresh source with other batch sizes: nothing may depend on how the stream was cut.
        List<ChangeEvent> replayed = readAll(source(SEED, 8, 0, UNTIL), span, start, UNTIL, 37);
        assertThat(replayed).as("%s from %d; %s", span.getTableId(), start, REPLAY)
            .isEqualTo(full.stream().filter(e -> e.commitTs() > start).toList());
      }
    }
  }

  @Test
  void splitSpansTogetherCarryExactlyTheTableAndSeedsDiffer() {
    List<ChangeEvent> whole = readAll(source(SEED, 4, 0, UNTIL), table(2), 0, UNTIL, 500);
    List<ChangeEvent> low = readAll(source(SEED, 4, 0, UNTIL), keys(2, 0, 300), 0, UNTIL, 500);
    List<ChangeEvent> high = readAll(source(SEED, 4, 0, UNTIL), keys(2, 300, -1), 0, UNTIL, 500);
    assertThat(low).isNotEmpty();
    assertThat(high).isNotEmpty();
    List<ChangeEvent> merged = new ArrayList<>(low);
    merged.addAll(high);
    assertThat(merged).containsExactlyInAnyOrderElementsOf(whole);
    assertThat(readAll(source(SEED + 1, 4, 0, UNTIL), table(2), 0, UNTIL, 500)).isNotEqualTo(whole);
  }

  /** Applies the history as a downstream would: every change must make sense for the table's state. */
  @Test
  void historyIsConsistentAndCoversEveryKindOfChange() {
    int tables = 6;
    DatagenModel model = new DatagenModel(SEED, tables);
    Set<RowChange.Op> ops = EnumSet.noneOf(RowChange.Op.class);
    Set<DdlEvent.Type> ddls = EnumSet.noneOf(DdlEvent.Type.class);
    for (long t = 1; t <= tables; t++) {
      boolean exists = false;
      Map<Long, Map<String, Object>> rows = new HashMap<>();
      for (long ts = 1; ts <= 30_000; ts++) {
        for (ChangeEvent e : model.eventsAt(t, ts)) {
          String at = "table " + t + " ts " + ts + " " + e + "; " + REPLAY;
          if (e instanceof DdlEvent ddl) {
            ddls.add(ddl.type());
            switch (ddl.type()) {
              case CREATE_TABLE -> {
                assertThat(exists).as(at).isFalse();
                exists = true;
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
            case INSERT -> assertThat(rows.put(row.key(), row.after())).as(at).isNull();
            case UPDATE -> assertThat(rows.put(row.key(), row.after())).as(at).isEqualTo(row.before());
            case DELETE -> assertThat(rows.remove(row.key())).as(at).isEqualTo(row.before());
          }
        }
      }
    }
    assertThat(ops).containsExactlyInAnyOrder(RowChange.Op.values());
    assertThat(ddls).containsExactlyInAnyOrder(DdlEvent.Type.values());
  }

  @Test
  void aRateBoundUpstreamFollowsTheClockWithoutBlocking() {
    DatagenSource source = source(SEED, 2, 1000, 0);
    SourceSubscription sub = source.subscribe(table(1), 0).result();
    Future<ChangeBatch> first = sub.next(100);
    scheduler.runDue();
    assertThat(first.isComplete()).as("nothing produced at t=0").isFalse();
    scheduler.advance(250);
    assertThat(first.result().resolvedTs()).as("woken when the first tick was produced, at t=1ms").isEqualTo(1);

    long resolved = 1;
    while (resolved < 250) {
      Future<ChangeBatch> next = sub.next(100);
      scheduler.runDue();
      resolved = next.result().resolvedTs();
    }
    assertThat(resolved).isEqualTo(250);
    Future<ChangeBatch> caughtUp = sub.next(100);
    scheduler.runDue();
    assertThat(caughtUp.isComplete()).isFalse();
    scheduler.advance(1);
    assertThat(caughtUp.result().resolvedTs()).isEqualTo(251);

    Future<ChangeBatch> pending = sub.next(100);
    sub.cancel();
    assertThat(pending.cause()).isInstanceOf(SubscriptionCancelledException.class);
    assertThat(sub.next(10).cause()).isInstanceOf(SubscriptionCancelledException.class);
    assertThat(scheduler.pending()).as("cancel leaves no timer behind").isZero();
  }

  @Test
  void pastUntilTheUpstreamIsIdleUntilCancelled() {
    DatagenSource source = source(SEED, 2, 0, 100);
    assertThat(readAll(source, table(1), 0, 100, 1000)).isNotEmpty();
    SourceSubscription sub = source.subscribe(table(1), 100).result();
    Future<ChangeBatch> idle = sub.next(10);
    scheduler.advance(60_000);
    assertThat(idle.isComplete()).isFalse();
    source.close();
    assertThat(idle.cause()).isInstanceOf(SubscriptionCancelledException.class);
  }
}
