package io.feedline.dispatcher.source.datagen;

import io.feedline.dispatcher.endpoint.EndpointUri;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import io.feedline.dispatcher.event.DdlEvent;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatagenModelTest {

  private static final long SEED = TestSeeds.seed(11);
  private static final String REPLAY = TestSeeds.replay(SEED, DatagenModelTest.class);

  /**
   * A thousand tables at 5 ticks a second is the shape of the replication tests: one sweep of the DDL slots
   * takes 2,000 ticks (400 s). Before each table had its own phase, every table of one period length
   * reached the same DDL in the same sweep, and whole sweeps passed with no DDL at all (a test waiting 2
   * minutes for one saw none). Now, wherever the history is read, no 200 ticks (40 s) pass without a DDL,
   * and 20 sweeps hold DDLs of every kind.
   */
  @Test
  void everyStretchOfTheHistoryHoldsDdlsOfEveryKind() {
    int tables = 1000;
    DatagenModel model = new DatagenModel(SEED, tables, TickTimeline.forRate(5));
    SplittableRandom random = new SplittableRandom(SEED);
    for (int sample = 0; sample < 5; sample++) {
      // Anywhere from the origin to well past today's ticks (about 8.8e9 at 5 ticks a second in 2026).
      long from = 1 + random.nextLong(20_000_000_000L);
      long lastDdl = from;
      long longestGap = 0;
      long end = from + 20 * 2L * tables;
      Map<DdlEvent.Type, Integer> kinds = new EnumMap<>(DdlEvent.Type.class);
      for (long tick = from; tick < end; tick++) {
        DdlEvent ddl = model.ddlAt(tick);
        if (ddl != null) {
          longestGap = Math.max(longestGap, tick - lastDdl);
          lastDdl = tick;
          kinds.merge(ddl.type(), 1, Integer::sum);
        }
      }
      longestGap = Math.max(longestGap, end - lastDdl);
      assertThat(longestGap).as("longest run of ticks without a DDL from tick %d, %s", from, REPLAY).isLessThan(200);
      assertThat(kinds.keySet()).as("DDL kinds from tick %d, %s", from, REPLAY).containsExactlyInAnyOrderElementsOf(DatagenModel.DDL_KINDS);
    }
  }

  /**
   * The phases must not break the history's start: each table's first DDL is its CREATE, with no row before it
   * (with few tables the DDL stride is shorter than a row's life, with many it is longer).
   */
  @ParameterizedTest
  @ValueSource(ints = {4, 50})
  void everyTableIsCreatedBeforeItsFirstRowFromTickOne(int tables) {
    DatagenModel model = new DatagenModel(SEED, tables, TickTimeline.forRate(1000));
    for (long table = 1; table <= tables; table++) {
      long tick = 1;
      while (model.ddlAt(table, tick) == null) {
        assertThat(tick).as("table %d's first DDL is at its first CREATE tick, %s", table, REPLAY).isLessThan(model.firstCreateTick(table));
        assertThat(model.rowsAt(table, tick)).as("table %d at tick %d, before its CREATE, %s", table, tick, REPLAY).isEmpty();
        assertThat(model.existsAt(table, tick)).as("table %d at tick %d, before its CREATE, %s", table, tick, REPLAY).isFalse();
        tick++;
      }
      assertThat(tick).as("table %d's first CREATE tick, %s", table, REPLAY).isEqualTo(model.firstCreateTick(table));
      assertThat(model.ddlAt(table, tick).type()).as("table %d's first DDL, %s", table, REPLAY).isEqualTo(DdlEvent.Type.CREATE_TABLE);
      assertThat(model.existsAt(table, tick)).isTrue();
    }
  }

  /**
   * A short lifetime (the deterministic simulator's three tables living about 256 ticks) makes the history DDL-dense and
   * keeps it what a history must be: every kind of DDL, a table's rows only while it exists, and each table's life
   * CREATE first and DROP last.
   */
  @Test
  void aShortLifetimeGivesADdlDenseHistoryOfTheSameShape() {
    DatagenModel model = DatagenModel.of(DatagenSpec.parse(EndpointUri.parse("source",
        "datagen://?tables=3&seed=" + SEED + "&rate=40&lifetime=256")));
    DatagenModel usual = new DatagenModel(SEED, 3, TickTimeline.forRate(40));
    Map<DdlEvent.Type, Integer> kinds = new EnumMap<>(DdlEvent.Type.class);
    int usualDdls = 0;
    for (long tick = 1; tick <= 4_000; tick++) {
      DdlEvent ddl = model.ddlAt(tick);
      if (ddl != null) {
        kinds.merge(ddl.type(), 1, Integer::sum);
        assertThat(model.rowsAt(ddl.tableId(), tick)).as("no row shares a tick with a DDL, %s", REPLAY).isEmpty();
      }
      usualDdls += usual.ddlAt(tick) == null ? 0 : 1;
      for (long table = 1; table <= 3; table++) {
        if (!model.rowsAt(table, tick).isEmpty()) {
          assertThat(model.existsAt(table, tick)).as("table %d has rows at tick %d only while it exists, %s", table, tick, REPLAY).isTrue();
        }
      }
    }
    assertThat(kinds.keySet()).as(REPLAY).containsExactlyInAnyOrderElementsOf(DatagenModel.DDL_KINDS);
    assertThat(kinds.values().stream().mapToInt(Integer::intValue).sum()).as("DDLs in 4,000 ticks, %s", REPLAY)
        .isGreaterThan(5 * usualDdls);
  }
}
