package io.feedline.node.bench;

import java.util.Collection;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code feedline bench fence}: the JMH measurement of {@link FenceBench}, printed as a table. */
@Command(name = "fence", mixinStandardHelpOptions = true,
    description = "JMH: nanoseconds per control message spent on the epoch fence (check, lookup, decode).")
public final class FenceBenchCommand implements Callable<Integer> {

  @Option(names = "--forks", defaultValue = "1", description = "JMH forks (default ${DEFAULT-VALUE}).")
  int forks;

  @Option(names = "--iterations", defaultValue = "5", description = "Measured iterations of 1 s (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup", defaultValue = "3", description = "Warm-up iterations of 1 s (default ${DEFAULT-VALUE}).")
  int warmup;

  @Override
  public Integer call() throws Exception {
    Options options = new OptionsBuilder()
        .include(FenceBench.class.getName() + "\\.")
        .forks(forks)
        .warmupIterations(warmup).warmupTime(TimeValue.seconds(1))
        .measurementIterations(iterations).measurementTime(TimeValue.seconds(1))
        // The forked JVM inherits the fat jar's class path; JMH's own progress output goes to stdout before the table.
        .shouldDoGC(true)
        .build();
    Collection<RunResult> results = new Runner(options).run();
    System.out.println();
    System.out.println(BenchCommand.machine());
    System.out.printf("%-24s %12s %12s%n", "benchmark", "ns/message", "± (99.9%)");
    for (RunResult result : results) {
      var primary = result.getPrimaryResult();
      String name = result.getParams().getBenchmark();
      System.out.printf("%-24s %12.1f %12.1f%n", name.substring(name.lastIndexOf('.') + 1), primary.getScore(), primary.getScoreError());
    }
    return 0;
  }
}
