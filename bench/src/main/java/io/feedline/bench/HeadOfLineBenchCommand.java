package io.feedline.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code feedline bench head-of-line}: dispatcher control latency with and without stalled changefeeds. */
@Command(name = "head-of-line", mixinStandardHelpOptions = true,
    description = "p50/p99 dispatcher request latency for healthy changefeeds, with and without stalled ones beside them "
        + "(a sink that never opens, one that never closes, one whose writes block worker threads).")
public final class HeadOfLineBenchCommand implements Callable<Integer> {

  @Option(names = "--changefeeds", defaultValue = "1000", description = "Healthy changefeeds (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--iterations", defaultValue = "100", description = "Measured waves per scenario and run (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "30", description = "Discarded waves first (default ${DEFAULT-VALUE}).")
  int warmup;

  @Mixin
  BenchRuns runs;

  @Override
  public Integer call() throws Exception {
    runs.count(); // a usage error before any work
    // A discarded pass first: the JIT should not favour whichever scenario or run comes later.
    HeadOfLineBench.run(changefeeds, 0, warmup, false);
    String setup = "1 dispatcher orchestrator, " + changefeeds + " healthy changefeeds re-bootstrapped in waves of all at once, "
        + iterations + " measured waves per scenario after " + warmup + ", and 1 changefeed of " + HeadOfLineBench.HEALTHY_DATA_SPANS
        + " datagen tables writing; stalled: 1 sink never closing, 1 never opening, 1 whose writes park threads (" + HeadOfLineBench.BLOCKED_SPANS
        + " spans, every thread of its I/O pool parked)";
    return runs.measure("head-of-line", setup, run -> {
      HeadOfLineBench.Result healthy = HeadOfLineBench.run(changefeeds, iterations, warmup, false);
      HeadOfLineBench.Result stalled = HeadOfLineBench.run(changefeeds, iterations, warmup, true);
      Map<String, Double> figures = new LinkedHashMap<>();
      figures.put("healthy_p50_ms", healthy.p50Millis());
      figures.put("healthy_p99_ms", healthy.p99Millis());
      figures.put("beside_stalled_p50_ms", stalled.p50Millis());
      figures.put("beside_stalled_p99_ms", stalled.p99Millis());
      figures.put("healthy_max_ms", healthy.maxMillis());
      figures.put("beside_stalled_max_ms", stalled.maxMillis());
      figures.put("healthy_req_per_s", healthy.requestsPerSecond());
      figures.put("beside_stalled_req_per_s", stalled.requestsPerSecond());
      figures.put("healthy_data_events_per_s", healthy.dataEventsPerSecond());
      figures.put("beside_stalled_data_events_per_s", stalled.dataEventsPerSecond());
      figures.put("stalled_close_answers", (double) stalled.stalledAnswers());
      figures.put("blocked_writes", (double) stalled.blockedWrites());
      return figures;
    });
  }
}
