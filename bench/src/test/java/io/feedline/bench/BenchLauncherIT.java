package io.feedline.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.testkit.FeedlineRun;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code java -jar feedline.jar bench …} as a user runs it: the node's jar has no benchmark in it and starts them
 * from {@code feedline-bench.jar} (this module's shaded jar) in a JVM of their own. Every command here exits by
 * itself within its timeout, and is killed (with what it started) if it does not.
 */
class BenchLauncherIT {

  @Test
  void listsTheBenchmarksFromTheBenchJar() throws Exception {
    FeedlineRun help = FeedlineRun.of("bench", "--help");
    assertThat(help.exit()).as(help.out()).isZero();
    assertThat(help.out()).contains("epoch-bumps", "head-of-line", "fence", "scale", "failover", "drain", "throughput", "sink", "replicate");
  }

  @Test
  void aJmhBenchmarkRunsItsForksWithTheBenchJarOnTheirClassPathAndTheHeapGivenToJava() throws Exception {
    FeedlineRun fence = FeedlineRun.of(Map.of(), List.of("-Xmx300m"), "bench", "fence", "--iterations", "1", "--warmup", "1", "--runs", "1");
    assertThat(fence.exit()).as(fence.out()).isZero();
    assertThat(fence.out()).containsPattern("(?m)^median\\s+[0-9.]+");
    // What the benchmark's JVM says of itself: the -Xmx given to `java -jar feedline.jar` reached it (the default here is GiBs).
    assertThat(fence.out()).containsPattern("machine: .*max heap (2[5-9][0-9]|300) MiB");
  }

  @Test
  void anUnknownBenchmarkIsAUsageErrorOfTheChild() throws Exception {
    FeedlineRun unknown = FeedlineRun.of("bench", "no-such-bench");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.out()).contains("no-such-bench");
  }

  @Test
  void aMissingBenchJarSaysWhereItLookedAndHowToBuildIt() throws Exception {
    FeedlineRun missing = FeedlineRun.of(Map.of("FEEDLINE_BENCH_JAR", "/nonexistent/feedline-bench.jar"), List.of(), "bench", "fence");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.out()).contains("feedline-bench.jar not found", "/nonexistent/feedline-bench.jar", "mvn -B -ntp -DskipTests package");
  }
}
