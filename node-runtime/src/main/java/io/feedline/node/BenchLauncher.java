package io.feedline.node;

import picocli.CommandLine.Command;

/**
 * {@code feedline bench <name> …}: runs the benchmarks of the bench module from {@code feedline-bench.jar}. Benchmarks,
 * JMH and the test kit are not a node's dependencies, so they are not in this jar.
 */
@Command(name = "bench", description = "Run a benchmark and print its figures (`bench --help` lists them). Needs feedline-bench.jar, "
    + "built by `mvn package` beside this jar or in bench/target; $FEEDLINE_BENCH_JAR names another.")
public final class BenchLauncher extends CompanionLauncher {

  public BenchLauncher() {
    super(CompanionJar.BENCH);
  }
}
