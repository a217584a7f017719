package io.feedline.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code java -jar feedline.jar bench …} as a user runs it: the node's jar has no benchmark in it and starts them
 * from {@code feedline-bench.jar} (this module's shaded jar) in a JVM of their own. Every command here exits by
 * itself within its timeout, and is killed (with what it started) if it does not.
 */
class BenchLauncherIT {

  private record Run(int exit, String out) {}

  private static Run feedline(Map<String, String> env, String... args) throws IOException, InterruptedException {
    return java(env, List.of(), args);
  }

  private static Run java(Map<String, String> env, List<String> jvmOptions, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(Path.of(System.getProperty("feedline.jar")).toAbsolutePath().toString());
    command.addAll(List.of(args));
    Path output = Files.createTempFile(Files.createDirectories(Path.of("target", "it")), "bench", ".out");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
    builder.environment().remove("FEEDLINE_BENCH_JAR");
    builder.environment().putAll(env);
    Process process = builder.start();
    try {
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        throw new AssertionError("`feedline " + String.join(" ", args) + "` did not exit; it printed:\n" + Files.readString(output));
      }
      return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      Files.deleteIfExists(output);
    }
  }

  @Test
  void listsTheBenchmarksFromTheBenchJar() throws Exception {
    Run help = feedline(Map.of(), "bench", "--help");
    assertThat(help.exit()).as(help.out()).isZero();
    assertThat(help.out()).contains("epoch-bumps", "head-of-line", "fence", "scale", "failover", "drain", "throughput", "sink", "replicate");
  }

  @Test
  void aJmhBenchmarkRunsItsForksWithTheBenchJarOnTheirClassPathAndTheHeapGivenToJava() throws Exception {
    Run fence = java(Map.of(), List.of("-Xmx300m"), "bench", "fence", "--iterations", "1", "--warmup", "1", "--runs", "1");
    assertThat(fence.exit()).as(fence.out()).isZero();
    assertThat(fence.out()).containsPattern("(?m)^median\\s+[0-9.]+");
    // What the benchmark's JVM says of itself: the -Xmx given to `java -jar feedline.jar` reached it (the default here is GiBs).
    assertThat(fence.out()).containsPattern("machine: .*max heap (2[5-9][0-9]|300) MiB");
  }

  @Test
  void anUnknownBenchmarkIsAUsageErrorOfTheChild() throws Exception {
    Run unknown = feedline(Map.of(), "bench", "no-such-bench");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.out()).contains("no-such-bench");
  }

  @Test
  void aMissingBenchJarSaysWhereItLookedAndHowToBuildIt() throws Exception {
    Run missing = feedline(Map.of("FEEDLINE_BENCH_JAR", "/nonexistent/feedline-bench.jar"), "bench", "fence");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.out()).contains("feedline-bench.jar not found", "/nonexistent/feedline-bench.jar", "mvn -B -ntp -DskipTests package");
  }
}
