package io.feedline.simulation;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.feedline.common.simulation.ProtocolMutation;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/** Runs seeds of the {@link Simulation}, and for a failing one finds the shortest prefix of its plan that still fails. */
final class Simulator {

  /** Every action of a seed's plan. */
  static final int ALL_ACTIONS = Integer.MAX_VALUE;

  private Simulator() {}

  static SeedResult run(long seed, int actions) {
    return new Simulation(seed, actions, null).run();
  }

  /** As {@link #run}, printing every event of the history to {@code trace} as it happens. */
  static SeedResult trace(long seed, int actions, java.util.function.Consumer<String> trace) {
    return new Simulation(seed, actions, trace).run();
  }

  /**
   * The fewest plan actions with which {@code seed} still violates an invariant, by bisection over prefixes of a plan
   * of {@code actions} that fails: the smallest failing prefix it meets (a prefix can fail while a longer one passes,
   * so it is the shortest it can find, not always the shortest there is).
   */
  static int shortestFailingPrefix(long seed, int actions) {
    int failing = actions;
    int passing = -1;
    while (failing - passing > 1) {
      int mid = (failing + passing) >>> 1;
      if (run(seed, mid).passed()) {
        passing = mid;
      } else {
        failing = mid;
      }
    }
    return failing;
  }

  /** The command that replays {@code seed} cut to {@code actions} under {@code mutation}. */
  static String replayCommand(long seed, int actions, Optional<ProtocolMutation> mutation) {
    return "java -jar node-runtime/target/feedline.jar simulate --seed " + seed + " --actions " + actions
        + mutation.map(m -> " --mutation " + m.cliName()).orElse("");
  }

  /** The roles log every decision; thousands of seeds a minute must not. Errors still show. */
  static void quietLogs() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.ERROR);
  }
}
