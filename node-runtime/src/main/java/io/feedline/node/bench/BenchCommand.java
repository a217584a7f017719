package io.feedline.node.bench;

import picocli.CommandLine.Command;

/** {@code feedline bench <name>}: control- and data-plane benchmarks that print their figures as a table. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark and print its figures.",
    subcommands = {EpochBumpBench.class, HeadOfLineBenchCommand.class, FenceBenchCommand.class, ScaleBench.class, FailoverBench.class,
        DrainBench.class, ThroughputBench.class, SinkBench.class, ReplicateBench.class})
public final class BenchCommand implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

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
