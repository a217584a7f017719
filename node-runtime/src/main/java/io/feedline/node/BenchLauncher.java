package io.feedline.node;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code feedline bench <name> …}: runs the benchmarks of the bench module in a JVM of their own, with
 * {@code feedline-bench.jar} in front of this JVM's class path. Benchmarks, JMH and the test kit are not a node's
 * dependencies, so they are not in this jar; the child gets this JVM's options (a {@code -Xmx} given to
 * {@code java -jar feedline.jar bench} applies to the benchmark) and the module openings this jar's manifest asks
 * for, and its exit code is the command's.
 */
@Command(name = "bench", description = "Run a benchmark and print its figures (`bench --help` lists them). Needs feedline-bench.jar, "
    + "built by `mvn package` beside this jar or in bench/target; $FEEDLINE_BENCH_JAR names another.")
public final class BenchLauncher implements Callable<Integer> {

  /** The environment variable naming the bench jar explicitly. */
  static final String BENCH_JAR_ENV = "FEEDLINE_BENCH_JAR";
  static final String BENCH_JAR = "feedline-bench.jar";
  static final String BENCH_MAIN = "io.feedline.bench.BenchCommand";
  /** The system property that tells the bench JVM whose death ends it: this one's pid. */
  public static final String PARENT_PROPERTY = "feedline.bench.parent";
  /**
   * Environment variables the JVM reads options from: they are among this JVM's options already, which the child gets
   * on its command line, so it must not read them a second time (an agent would load twice).
   */
  private static final List<String> JVM_OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

  @CommandLine.Unmatched
  List<String> args = new ArrayList<>();

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path home = ownLocation();
    List<Path> candidates = candidates(System.getenv(BENCH_JAR_ENV), home);
    Optional<Path> benchJar = candidates.stream().filter(Files::isRegularFile).findFirst();
    PrintWriter err = spec.commandLine().getErr();
    if (benchJar.isEmpty()) {
      err.println("bench: " + BENCH_JAR + " not found (looked at " + candidates + "); build it with `mvn -B -ntp -DskipTests package` "
          + "at the repository root, or set " + BENCH_JAR_ENV);
      return 2;
    }
    List<String> options = new ArrayList<>(jvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments()));
    options.add("-D" + PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
    List<String> command = command(Path.of(System.getProperty("java.home"), "bin", "java"), options, manifestOpenings(home),
        benchJar.get(), System.getProperty("java.class.path"), args);
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    JVM_OPTION_VARIABLES.forEach(builder.environment()::remove);
    Process child = builder.start();
    // A SIGTERM or Ctrl-C of this JVM stops the child here; a SIGKILL cannot run this, and the child then ends itself
    // when it sees this process gone (BenchCommand watches PARENT_PROPERTY).
    Thread reaper = new Thread(() -> {
      child.destroy();
      try {
        child.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "bench-child-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    int exit = child.waitFor();
    Runtime.getRuntime().removeShutdownHook(reaper);
    return exit;
  }

  /**
   * Where the bench jar may be: {@code $FEEDLINE_BENCH_JAR} alone when set (a name given explicitly is not second-guessed);
   * else beside this jar (both jars copied together), then the bench module's target in the source tree this jar was built
   * in ({@code node-runtime/target}).
   */
  static List<Path> candidates(String fromEnv, Path home) {
    if (fromEnv != null && !fromEnv.isBlank()) {
      return List.of(Path.of(fromEnv));
    }
    List<Path> candidates = new ArrayList<>();
    // node-runtime/target, whether this runs from target/feedline.jar or (an IDE) target/classes
    Path dir = home.toAbsolutePath().getParent();
    candidates.add(dir.resolve(BENCH_JAR));
    candidates.add(dir.resolve("../../bench/target").resolve(BENCH_JAR).normalize());
    return candidates;
  }

  /**
   * This JVM's options the child gets: all but a debugger's (the child would fail to bind its port, and so would
   * each JMH fork after it).
   */
  static List<String> jvmOptions(List<String> inputArguments) {
    return inputArguments.stream()
        .filter(o -> !o.startsWith("-agentlib:jdwp") && !o.startsWith("-Xrunjdwp") && !o.equals("-Xdebug"))
        .toList();
  }

  /** The child JVM's command line: this JVM's options, the jar's module openings, the bench jar first on the class path. */
  static List<String> command(Path java, List<String> jvmOptions, List<String> openings, Path benchJar, String classPath, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    command.addAll(jvmOptions);
    command.addAll(openings);
    command.add("-cp");
    command.add(benchJar + File.pathSeparator + classPath);
    command.add(BENCH_MAIN);
    command.addAll(args);
    return command;
  }

  /**
   * The {@code Add-Opens}/{@code Add-Exports} of this jar's manifest as command-line options: the JVM honours them only
   * for the jar given to {@code -jar}, and the child is started with {@code -cp}.
   */
  static List<String> openings(Manifest manifest) {
    List<String> options = new ArrayList<>();
    Attributes main = manifest.getMainAttributes();
    for (String[] attribute : new String[][] {{"Add-Opens", "--add-opens="}, {"Add-Exports", "--add-exports="}}) {
      String value = main.getValue(attribute[0]);
      if (value != null) {
        for (String modulePackage : value.trim().split("\\s+")) {
          options.add(attribute[1] + modulePackage + "=ALL-UNNAMED");
        }
      }
    }
    return options;
  }

  private static List<String> manifestOpenings(Path home) throws IOException {
    if (!Files.isRegularFile(home)) {
      return List.of(); // classes directory (IDE, tests): the JVM's own options carry them
    }
    try (JarFile jar = new JarFile(home.toFile())) {
      Manifest manifest = jar.getManifest();
      return manifest == null ? List.of() : openings(manifest);
    }
  }

  private static Path ownLocation() {
    try {
      return Path.of(BenchLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot tell where feedline.jar is: " + e.getMessage(), e);
    }
  }
}
