package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A seed reproduces the identical history, whatever ran before it in the same JVM. */
class ExactReplayTest {

  @BeforeAll
  static void quiet() {
    Simulator.quietLogs();
  }

  @Test
  void aSeedReplaysItsExactHistoryAfterOtherSeeds() {
    long seed = 3013;
    SeedResult first = Simulator.run(seed, Simulator.ALL_ACTIONS);
    for (long other = 3000; other < 3004; other++) {
      Simulator.run(other, Simulator.ALL_ACTIONS);
    }
    SeedResult again = Simulator.run(seed, Simulator.ALL_ACTIONS);
    assertThat(again.historyHash()).as("seed %d's history hash, replayed", seed).isEqualTo(first.historyHash());
    assertThat(again.stats().steps).isEqualTo(first.stats().steps);
  }

  @Test
  void aTracedReplayPrintsTheSameHistoryTwice() {
    List<String> one = new ArrayList<>();
    List<String> two = new ArrayList<>();
    Simulator.trace(3001, Simulator.ALL_ACTIONS, one::add);
    Simulator.run(3002, Simulator.ALL_ACTIONS);
    Simulator.trace(3001, Simulator.ALL_ACTIONS, two::add);
    for (int i = 0; i < Math.min(one.size(), two.size()); i++) {
      assertThat(two.get(i)).as("event %d of seed 3001", i).isEqualTo(one.get(i));
    }
    assertThat(two).hasSameSizeAs(one);
  }

  @Test
  void seedsRunSideBySideOnThreadsHaveTheHistoriesTheyHaveAlone() {
    List<Long> alone = new ArrayList<>();
    for (long seed = 3100; seed < 3106; seed++) {
      alone.add(Simulator.run(seed, Simulator.ALL_ACTIONS).historyHash());
    }
    List<Long> together = new ArrayList<>();
    try (Simulator.SeedStream results = Simulator.seeds(3100, 6, 3)) {
      results.forEachRemaining(result -> together.add(result.historyHash()));
    }
    assertThat(together).isEqualTo(alone);
  }
}
