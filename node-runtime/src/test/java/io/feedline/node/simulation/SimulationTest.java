package io.feedline.node.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import io.feedline.node.simulation.SimulatedCluster.Store;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wall-clock fault-injection simulation (see {@link Simulation}): real Vert.x, Hazelcast and etcd, so it checks
 * that the runtime around the roles behaves as the cores do in the deterministic simulator (the simulation module,
 * which searches a thousand seeds per run). By default one fixed seed on etcd with {@value #DEFAULT_CHAOS_SECONDS} s of
 * faults; {@code -Dfeedline.seed=N} runs exactly seed N (it replays the fault schedule, not the interleaving),
 * {@code -Dfeedline.seed=random} one fresh seed, and {@code -Dfeedline.sim.soak=PT30M} fresh seeds one after another
 * for that long. {@code -Dfeedline.sim.chaos=PT60S} sets the fault phase per seed, {@code -Dfeedline.sim.store=embedded}
 * the metastore of those runs (default etcd). Every failure prints its seed, the command that replays it and the step
 * log.
 */
class SimulationTest {

  private static final Logger LOG = LoggerFactory.getLogger(SimulationTest.class);
  private static final long DEFAULT_CHAOS_SECONDS = 20;
  private static final long DEFAULT_SEED = 1;

  @TestFactory
  Stream<DynamicTest> invariantsHoldAndTheClusterConvergesUnderRandomFaults() {
    Duration chaos = Duration.parse(System.getProperty("feedline.sim.chaos", "PT" + DEFAULT_CHAOS_SECONDS + "S"));
    Store store = Store.parse(System.getProperty("feedline.sim.store", "etcd"));
    String soak = System.getProperty("feedline.sim.soak", "");
    if (!soak.isBlank()) {
      long soakEnd = System.nanoTime() + Duration.parse(soak).toNanos();
      return Stream.generate(System::nanoTime).takeWhile(now -> now < soakEnd)
          .map(now -> runSeed(now, chaos, store));
    }
    if (!System.getProperty("feedline.seed", "").isBlank()) {
      return Stream.of(runSeed(TestSeeds.seed(0), chaos, store));
    }
    return Stream.of(runSeed(DEFAULT_SEED, chaos, Store.ETCD));
  }

  private static DynamicTest runSeed(long seed, Duration chaos, Store store) {
    return DynamicTest.dynamicTest("seed " + seed + " on " + store.flag(), () -> {
      Simulation.Result result = new Simulation(seed, chaos, store).run();
      LOG.info("simulation seed={} store={} passed={}\n{}", seed, store.flag(), result.passed(), result.report());
      assertThat(result.passed()).as(() -> replay(seed, chaos, store) + "\n" + result.report()).isTrue();
    });
  }

  /** The seed and the one command that replays the run: same seed, fault phase and store. */
  static String replay(long seed, Duration chaos, Store store) {
    return "seed=" + seed + " (replay: scripts/test.sh -DskipITs -Dtest=SimulationTest -Dfeedline.seed=" + seed
        + " -Dfeedline.sim.chaos=" + chaos + " -Dfeedline.sim.store=" + store.flag() + ")";
  }
}
