package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The search every CI run does: {@value #SEEDS} fresh seeds of the whole protocol (override the first with
 * {@code -Dfeedline.sim.from=S}, the count with {@code -Dfeedline.sim.seeds=N}), each checked after every step. A
 * failure names its seed, the shortest failing prefix of its plan and the command that replays it. Prints the seeds/s
 * and what the seeds exercised in all.
 */
class ThousandSeedsTest {

  static final int SEEDS = 1000;

  @Test
  void everySeedKeepsEveryInvariant() {
    Simulator.quietLogs();
    long first = Long.getLong("feedline.sim.from", new SecureRandom().nextLong() >>> 1);
    int seeds = Integer.getInteger("feedline.sim.seeds", SEEDS);
    System.out.println("simulate: seeds from " + first + ", " + seeds + " of them");
    Map<String, Long> faults = new TreeMap<>();
    long writes = 0;
    long handoffs = 0;
    long steps = 0;
    long started = System.nanoTime();
    try (Simulator.SeedStream results = Simulator.seeds(first, seeds, Runtime.getRuntime().availableProcessors())) {
      while (results.hasNext()) {
        SeedResult result = results.next();
        if (!result.passed()) {
          int shortest = Simulator.shortestFailingPrefix(result);
          throw new AssertionError(result.summary() + "\n  " + String.join("\n  ", result.violations()) + "\n  last events:\n    "
              + String.join("\n    ", result.tail()) + "\n  shortest failing prefix: " + shortest + " of " + result.actions()
              + " plan actions\n  replay: " + Simulator.replayCommand(result.seed(), shortest, Optional.empty()));
        }
        result.stats().faults.forEach((kind, n) -> faults.merge(kind, n, Long::sum));
        writes += result.writes();
        handoffs += result.stats().maintainerHandoffs + result.stats().spanHandoffs;
        steps += result.stats().steps;
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("simulate: %d seeds, 0 violations, %.1f seeds/s on %d threads (%d steps, %d writes, %d ownership handoffs, faults %s)%n", seeds,
        seeds / seconds, Runtime.getRuntime().availableProcessors(), steps, writes, handoffs, faults);
    assertThat(faults.keySet()).as("every kind of fault was exercised")
        .contains("crash", "kill-coordinator", "partition", "store-disconnect", "store-down", "drop", "duplicate", "delay", "sink-refused",
            "sink-answer-lost", "sink-stall");
  }
}
