package io.feedline.node.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault-injection simulation (see {@link Simulation}). By default a few fixed seeds, each with
 * {@value #DEFAULT_CHAOS_SECONDS} s of faults, which fits the suite; {@code -Dfeedline.seed=N} runs exactly
 * seed N (replay), {@code -Dfeedline.seed=random} one fresh seed, and {@code -Dfeedline.sim.soak=PT30M} fresh
 * seeds one after another for that long. {@code -Dfeedline.sim.chaos=PT60S} sets the fault phase per seed.
 * Every failure prints its seed, the command that replays it and the step log.
 */
class SimulationTest {

  private static final Logger LOG = LoggerFactory.getLogger(SimulationTest.class);
  private static final long DEFAULT_CHAOS_SECONDS = 20;
  private static final List<Long> DEFAULT_SEEDS = List.of(1L, 2L, 3L);

  @TestFactory
  Stream<DynamicTest> invariantsHoldAndTheClusterConvergesUnderRandomFaults() {
    Duration chaos = Duration.parse(System.getProperty("feedline.sim.chaos", "PT" + DEFAULT_CHAOS_SECONDS + "S"));
    String soak = System.getProperty("feedline.sim.soak", "");
    if (!soak.isBlank()) {
      long soakEnd = System.nanoTime() + Duration.parse(soak).toNanos();
      return Stream.generate(System::nanoTime).takeWhile(now -> now < soakEnd)
          .map(now -> runSeed(now, chaos));
    }
    List<Long> seeds = new ArrayList<>();
    if (System.getProperty("feedline.seed", "").isBlank()) {
      seeds.addAll(DEFAULT_SEEDS);
    } else {
      seeds.add(TestSeeds.seed(0));
    }
    return seeds.stream().map(seed -> runSeed(seed, chaos));
  }

  private static DynamicTest runSeed(long seed, Duration chaos) {
    return DynamicTest.dynamicTest("seed " + seed, () -> {
      Simulation.Result result = new Simulation(seed, chaos).run();
      LOG.info("simulation seed={} passed={}\n{}", seed, result.passed(), result.report());
      assertThat(result.passed())
          .as(() -> TestSeeds.replay(seed, SimulationTest.class) + " -Dfeedline.sim.chaos=" + chaos + "\n" + result.report())
          .isTrue();
    });
  }
}
