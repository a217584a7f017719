package io.feedline.bench;

import io.feedline.node.BenchLauncher;
import io.feedline.node.NodeRuntime;
import io.feedline.testkit.ParentWatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code feedline bench <name>}: control- and data-plane benchmarks that print their figures as a table. The node's
 * jar starts this in a JVM of its own (see {@link BenchLauncher}), so no benchmark code, JMH or
 * test kit is on a node's class path.
 */
@Command(name = "feedline bench", mixinStandardHelpOptions = true, version = "feedline " + NodeRuntime.VERSION, description = "Run a benchmark and print its figures.",
    subcommands = {EpochBumpBench.class, HeadOfLineBenchCommand.class, FenceBenchCommand.class, ScaleBench.class, FailoverBench.class,
        DrainBench.class, ThroughputBench.class, SinkBench.class, ReplicateBench.class})
public final class BenchCommand implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Started by `feedline bench`: end with it, even when it was killed and could not stop this JVM itself.
    ParentWatch.endWithParent();
    CommandLine bench = new CommandLine(new BenchCommand());
    String[] version = bench.getCommandSpec().version();
    bench.getSubcommands().values().forEach(sub -> sub.getCommandSpec().version(version));
    System.exit(bench.execute(args));
  }

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing benchmark: give one of " + spec.subcommands().keySet());
  }

  /** The header line every benchmark prints: what machine the figures come from. */
  public static String machine() {
    return "machine: " + Runtime.getRuntime().availableProcessors() + " cores, java " + System.getProperty("java.version")
        + ", max heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB";
  }
}
