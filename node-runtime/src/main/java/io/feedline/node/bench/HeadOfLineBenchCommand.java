package io.feedline.node.bench;

import io.feedline.dispatcher.bench.HeadOfLineBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code feedline bench head-of-line}: dispatcher control latency with and without stalled changefeeds. */
@Command(name = "head-of-line", mixinStandardHelpOptions = true,
    description = "p50/p99 dispatcher request latency for healthy changefeeds, with and without stalled ones beside them.")
public final class HeadOfLineBenchCommand implements Callable<Integer> {

  @Option(names = "--changefeeds", defaultValue = "1000", description = "Healthy changefeeds (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--iterations", defaultValue = "100", description = "Measured waves (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "30", description = "Discarded waves first (default ${DEFAULT-VALUE}).")
  int warmup;

  @Override
  public Integer call() throws Exception {
    System.out.println(BenchCommand.machine());
    // A discarded pass first: the JIT should not favour whichever scenario runs second.
    HeadOfLineBench.run(changefeeds, 0, warmup, false);
    System.out.print(HeadOfLineBench.table(List.of(
        HeadOfLineBench.run(changefeeds, iterations, warmup, false),
        HeadOfLineBench.run(changefeeds, iterations, warmup, true))));
    return 0;
  }
}
