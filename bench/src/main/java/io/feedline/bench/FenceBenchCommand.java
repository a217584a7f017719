package io.feedline.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench fence}: the JMH measurement of {@link FenceBench}. A run is one JMH fork (a JVM of its
 * own, warmed up and measured): each run's figure of a benchmark is that fork's mean nanoseconds per message.
 */
@Command(name = "fence", mixinStandardHelpOptions = true,
    description = "JMH: nanoseconds per control message spent on the epoch fence (check, lookup, decode); a run is one JMH fork.")
public final class FenceBenchCommand implements Callable<Integer> {

  @Option(names = "--iterations", defaultValue = "5", description = "Measured iterations of 1 s per run (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "3", description = "Warm-up iterations of 1 s per run (default ${DEFAULT-VALUE}).")
  int warmup;

  @Mixin
  BenchRuns runs;

  @Override
  public Integer call() throws Exception {
    int forks = runs.count();
    Options options = new OptionsBuilder()
        .include(FenceBench.class.getName() + "\\.")
        .forks(forks)
        .warmupIterations(warmup).warmupTime(TimeValue.seconds(1))
        .measurementIterations(iterations).measurementTime(TimeValue.seconds(1))
        // The forked JVMs inherit this JVM's class path (feedline-bench.jar, then feedline.jar); JMH's own progress output goes to stdout before the report.
        .shouldDoGC(true)
        .build();
    List<Map<String, Double>> figures = new ArrayList<>();
    for (int i = 0; i < forks; i++) {
      figures.add(new LinkedHashMap<>());
    }
    for (RunResult result : new Runner(options).run()) {
      String name = result.getParams().getBenchmark();
      String figure = name.substring(name.lastIndexOf('.') + 1) + "_ns";
      if (result.getBenchmarkResults().size() != forks) {
        throw new IllegalStateException(figure + ": " + result.getBenchmarkResults().size() + " of " + forks + " JMH forks reported");
      }
      int fork = 0;
      for (BenchmarkResult forkResult : result.getBenchmarkResults()) {
        figures.get(fork++).put(figure, forkResult.getPrimaryResult().getScore());
      }
    }
    System.out.println();
    return runs.report("fence", "JMH, average time per message: " + forks + " forks x (" + warmup + " warm-up + " + iterations
        + " measured iterations of 1 s)", figures);
  }
}
