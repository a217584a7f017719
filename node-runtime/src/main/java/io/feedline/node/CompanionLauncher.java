package io.feedline.node;

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

/**
 * A subcommand that runs a {@link CompanionJar} in a JVM of its own, with the companion jar in front of this JVM's class
 * path. The child gets this JVM's options (a {@code -Xmx} given to {@code java -jar feedline.jar bench} applies to the
 * benchmark) and the module openings this jar's manifest asks for; everything after the subcommand is the child's to
 * parse ({@link Main} stops parsing there), and the child's exit code is the command's.
 */
abstract class CompanionLauncher implements Callable<Integer> {

  /**
   * The system property that tells the child JVM whose death ends it: this one's pid. The children read it with the test
   * kit's {@code io.feedline.testkit.ParentWatch}, whose {@code PROPERTY} must be this name (a test checks).
   */
  static final String PARENT_PROPERTY = "feedline.parent";
  /**
   * Environment variables the JVM reads options from: they are among this JVM's options already, which the child gets
   * on its command line, so it must not read them a second time (an agent would load twice).
   */
  private static final List<String> JVM_OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

  private final CompanionJar companion;

  @CommandLine.Unmatched
  List<String> args = new ArrayList<>();

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  CompanionLauncher(CompanionJar companion) {
    this.companion = companion;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path home = ownLocation();
    List<Path> candidates = companion.candidates(System.getenv(companion.envVariable()), home);
    Optional<Path> jar = candidates.stream().filter(Files::isRegularFile).findFirst();
    PrintWriter err = spec.commandLine().getErr();
    if (jar.isEmpty()) {
      err.println(companion.notFound(candidates));
      return 2;
    }
    List<String> options = new ArrayList<>(jvmOptions(ManagementFactory.getRuntimeMXBean().getInputArguments()));
    options.add("-D" + PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
    List<String> command = companion.command(Path.of(System.getProperty("java.home"), "bin", "java"), options,
        manifestOpenings(home), jar.get(), System.getProperty("java.class.path"), args);
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    JVM_OPTION_VARIABLES.forEach(builder.environment()::remove);
    Process child = builder.start();
    // A SIGTERM or Ctrl-C of this JVM stops the child here; a SIGKILL cannot run this, and the child then ends itself
    // when it sees this process gone (it watches PARENT_PROPERTY).
    Thread reaper = new Thread(() -> {
      child.destroy();
      try {
        child.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, companion.command() + "-child-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    int exit = child.waitFor();
    Runtime.getRuntime().removeShutdownHook(reaper);
    return exit;
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
      return Path.of(CompanionLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot tell where feedline.jar is: " + e.getMessage(), e);
    }
  }
}
