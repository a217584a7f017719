package io.feedline.node;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A jar that {@code feedline.jar} does not carry but runs in a JVM of its own, with that jar in front of its own class
 * path: the code a node never runs (benchmarks, the simulator, the test kit) stays out of a node's jar.
 *
 * @param command the subcommand of {@code feedline.jar} that runs it
 * @param jarName the jar's file name, beside {@code feedline.jar} or in {@code <module>/target} of the source tree
 * @param envVariable the environment variable naming the jar explicitly
 * @param mainClass what the child JVM runs; it parses everything after {@code command}
 * @param module the directory of the Maven module that builds the jar
 */
record CompanionJar(String command, String jarName, String envVariable, String mainClass, String module) {

  static final CompanionJar BENCH =
      new CompanionJar("bench", "feedline-bench.jar", "FEEDLINE_BENCH_JAR", "io.feedline.bench.BenchCommand", "bench");
  static final CompanionJar SIMULATION =
      new CompanionJar("simulate", "feedline-sim.jar", "FEEDLINE_SIM_JAR", "io.feedline.simulation.SimulateCommand", "simulation");

  /**
   * Where the jar may be: the environment variable's path alone when set (a name given explicitly is not second-guessed);
   * else beside {@code home} (both jars copied together), then the module's target in the source tree {@code home} was
   * built in ({@code node-runtime/target}).
   */
  List<Path> candidates(String fromEnv, Path home) {
    if (fromEnv != null && !fromEnv.isBlank()) {
      return List.of(Path.of(fromEnv));
    }
    // node-runtime/target, whether this runs from target/feedline.jar or (an IDE) target/classes
    Path dir = home.toAbsolutePath().getParent();
    return List.of(dir.resolve(jarName), dir.resolve("../../" + module + "/target").resolve(jarName).normalize());
  }

  /** What the command prints when no candidate exists: where it looked and how to get the jar. */
  String notFound(List<Path> candidates) {
    return command + ": " + jarName + " not found (looked at " + candidates + "); build it with `mvn -B -ntp -DskipTests package` "
        + "at the repository root, or set " + envVariable;
  }

  /** The child JVM's command line: this JVM's options, the module openings, this jar first on the class path. */
  List<String> command(Path java, List<String> jvmOptions, List<String> openings, Path jar, String classPath, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.addAll(jvmOptions);
    command.addAll(openings);
    command.add("-cp");
    command.add(jar + File.pathSeparator + classPath);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }
}
