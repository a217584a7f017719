package io.feedline.simulation;

import io.feedline.common.simulation.ProtocolMutation;
import io.feedline.testkit.ParentWatch;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline simulate}: runs seeds of the deterministic simulation and ends with
 * {@code simulate: N seeds, V violations, R seeds/s}. Exit 0 when no seed violated an invariant, 1 when one did (with
 * the shortest failing prefix of its plan and the command that replays it), 2 on bad input.
 */
@Command(name = "feedline simulate", mixinStandardHelpOptions = true,
    description = "Run seeds of the deterministic simulation of the whole protocol: three nodes with the real coordinator, maintainers "
        + "and dispatchers on one thread and simulated time, a seeded network and metastore, crashes, partitions and a workload; "
        + "every invariant after every step.")
public final class SimulateCommand implements Callable<Integer> {

  @Option(names = "--seeds", paramLabel = "N", description = "How many seeds to run (default ${DEFAULT-VALUE}).", defaultValue = "100")
  long seeds;

  @Option(names = "--from", paramLabel = "S", description = "The first of the seeds to run (default: drawn at random and printed).")
  Long from;

  @Option(names = "--seed", paramLabel = "S", description = "Replay this one seed and print what it did and its history hash.")
  Long seed;

  @Option(names = "--actions", paramLabel = "K", description = "With --seed: run only the first K actions of its plan (a shrunk failure).")
  Integer actions;

  @Option(names = "--mutation", paramLabel = "NAME", description = "Break the protocol the way a real bug would: one of "
      + "skip-receiver-fence, skip-epoch-bump, accept-stale-close, early-checkpoint.")
  String mutation;

  @Option(names = "--threads", paramLabel = "T", description = "Seeds run at once, each on a thread of its own (default: the "
      + "machine's cores, ${DEFAULT-VALUE}); a seed's history does not depend on it.")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--trace", description = "With --seed: print every event of its history as it happens (messages delivered, "
      + "writes, metastore commits, workload and faults).")
  boolean trace;

  @Option(names = "--soak", description = "Run seeds until stopped (Ctrl-C), printing seeds/s every minute.")
  boolean soak;

  private final PrintStream out = System.out;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Started by `feedline simulate`: end with it, even when it was killed and could not stop this JVM itself.
    ParentWatch.endWithParent();
    System.exit(new CommandLine(new SimulateCommand()).execute(args));
  }

  @Override
  public Integer call() {
    if (seeds < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--seeds must be 0 or more, not " + seeds);
    }
    if (threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be 1 or more, not " + threads);
    }
    if (actions != null && (seed == null || actions < 0)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--actions needs --seed and must be 0 or more");
    }
    Optional<ProtocolMutation> broken = Optional.empty();
    if (mutation != null) {
      broken = ProtocolMutation.byName(mutation);
      if (broken.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "unknown --mutation '" + mutation + "': give one of "
            + Arrays.stream(ProtocolMutation.values()).map(ProtocolMutation::cliName).collect(Collectors.joining(", ")));
      }
    }
    Simulator.quietLogs();
    ProtocolMutation.activate(broken);
    try {
      return seed != null ? replay(broken) : runMany(broken);
    } finally {
      ProtocolMutation.activate(Optional.empty());
    }
  }

  private int replay(Optional<ProtocolMutation> broken) {
    long started = System.nanoTime();
    int limit = actions == null ? Simulator.ALL_ACTIONS : actions;
    SeedResult result = trace ? Simulator.trace(seed, limit, out::println) : Simulator.run(seed, limit);
    out.println(result.summary());
    if (!result.passed()) {
      report(result, broken);
    }
    finish(1, result.passed() ? 0 : 1, started);
    return result.passed() ? 0 : 1;
  }

  private int runMany(Optional<ProtocolMutation> broken) {
    long first = from != null ? from : new SecureRandom().nextLong() >>> 1;
    out.println("simulate: seeds from " + first + (soak ? " until stopped" : ", " + seeds + " of them") + ", " + threads + " threads"
        + broken.map(m -> ", mutation " + m.cliName()).orElse(""));
    long started = System.nanoTime();
    long lastReport = started;
    long ran = 0;
    long violated = 0;
    try (Simulator.SeedStream results = Simulator.seeds(first, soak ? -1 : seeds, threads)) {
      while (results.hasNext()) {
        SeedResult result = results.next();
        ran++;
        if (!result.passed()) {
          violated++;
          report(result, broken);
          if (!soak) {
            break; // one failing seed, shrunk and reported, is what a developer acts on
          }
        }
        if (soak && System.nanoTime() - lastReport > 60_000_000_000L) {
          lastReport = System.nanoTime();
          out.printf("simulate: %d seeds so far, %d violations, %.1f seeds/s%n", ran, violated, ran / ((lastReport - started) / 1e9));
        }
      }
    }
    finish(ran, violated, started);
    return violated == 0 ? 0 : 1;
  }

  private void report(SeedResult result, Optional<ProtocolMutation> broken) {
    out.println(result.summary());
    result.violations().forEach(v -> out.println("  VIOLATION " + v));
    out.println("  last events before it:");
    result.tail().forEach(line -> out.println("    " + line));
    int shortest = Simulator.shortestFailingPrefix(result);
    out.println("  shortest failing prefix: " + shortest + " of " + result.actions() + " plan actions");
    out.println("  replay: " + Simulator.replayCommand(result.seed(), shortest, broken));
  }

  private void finish(long ran, long violated, long started) {
    double seconds = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
    out.printf("simulate: %d seeds, %d violations, %.1f seeds/s%n", ran, violated, ran / seconds);
  }
}
