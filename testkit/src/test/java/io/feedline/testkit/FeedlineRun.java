package io.feedline.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code java [options] -jar feedline.jar args…} as a user runs it, for the process tests of the modules whose jar
 * {@code feedline.jar} starts (the {@code feedline.jar} system property names it). The command must exit by itself
 * within two minutes; it is killed, with what it started, when it does not, and in any case when it has been read.
 *
 * @param exit the process's exit code
 * @param out what it printed, standard output and error interleaved
 */
public record FeedlineRun(int exit, String out) {

  /** The variables naming the companion jars: a developer's own must not decide which jar a test runs. */
  private static final List<String> JAR_VARIABLES = List.of("FEEDLINE_BENCH_JAR", "FEEDLINE_SIM_JAR");

  public static FeedlineRun of(String... args) throws IOException, InterruptedException {
    return of(Map.of(), List.of(), args);
  }

  public static FeedlineRun of(Map<String, String> env, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(Path.of(System.getProperty("feedline.jar")).toAbsolutePath().toString());
    command.addAll(List.of(args));
    Path output = Files.createTempFile(Files.createDirectories(Path.of("target", "it")), "feedline", ".out");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
    JAR_VARIABLES.forEach(builder.environment()::remove);
    builder.environment().putAll(env);
    Process process = builder.start();
    try {
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        throw new AssertionError("`feedline " + String.join(" ", args) + "` did not exit; it printed:\n" + Files.readString(output));
      }
      return new FeedlineRun(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      Files.deleteIfExists(output);
    }
  }
}
