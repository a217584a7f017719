package io.feedline.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.testkit.ParentWatch;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench} and {@code simulate}: where their companion jar is looked for and the child JVM's command line. */
class CompanionLauncherTest {

  private static final Path FAT_JAR = Path.of("/repo/node-runtime/target/feedline.jar");

  @Test
  void looksBesideTheJarThenInTheSourceTreesModule() {
    assertThat(CompanionJar.BENCH.candidates(null, FAT_JAR)).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-bench.jar"), Path.of("/repo/bench/target/feedline-bench.jar"));
    assertThat(CompanionJar.SIMULATION.candidates(null, FAT_JAR)).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-sim.jar"), Path.of("/repo/simulation/target/feedline-sim.jar"));
    assertThat(CompanionJar.BENCH.candidates("  ", FAT_JAR)).as("a blank variable is not set").hasSize(2);
  }

  @Test
  void fromAnIdesClassesDirectoryItLooksInTheSamePlaces() {
    Path classes = Path.of("/repo/node-runtime/target/classes");
    assertThat(CompanionJar.BENCH.candidates(null, classes)).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-bench.jar"), Path.of("/repo/bench/target/feedline-bench.jar"));
    assertThat(CompanionJar.SIMULATION.candidates(null, classes)).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-sim.jar"), Path.of("/repo/simulation/target/feedline-sim.jar"));
  }

  @Test
  void aJarNamedInTheEnvironmentIsTheOnlyOneLookedAt() {
    assertThat(CompanionJar.BENCH.candidates("/opt/feedline-bench.jar", FAT_JAR)).containsExactly(Path.of("/opt/feedline-bench.jar"));
    assertThat(CompanionJar.SIMULATION.candidates("/opt/sim.jar", FAT_JAR)).containsExactly(Path.of("/opt/sim.jar"));
  }

  @Test
  void aMissingJarSaysWhereItLookedAndWhichVariableNamesAnother() {
    assertThat(CompanionJar.SIMULATION.notFound(List.of(Path.of("/a/feedline-sim.jar"))))
        .startsWith("simulate: feedline-sim.jar not found (looked at [/a/feedline-sim.jar])")
        .contains("mvn -B -ntp -DskipTests package").endsWith("FEEDLINE_SIM_JAR");
  }

  @Test
  void aDebuggersOptionsStayWithThisJvm() {
    assertThat(CompanionLauncher.jvmOptions(List.of("-Xmx2g", "-agentlib:jdwp=transport=dt_socket,server=y,address=5005", "-Xdebug",
        "-Xrunjdwp:transport=dt_socket", "-Dx=1"))).containsExactly("-Xmx2g", "-Dx=1");
  }

  @Test
  void theChildGetsThisJvmsOptionsTheOpeningsAndTheCompanionJarFirst() {
    List<String> bench = CompanionJar.BENCH.command(Path.of("/jdk/bin/java"), List.of("-Xmx2g"),
        List.of("--add-opens=java.base/java.lang=ALL-UNNAMED"), Path.of("/b/feedline-bench.jar"), "node-runtime/target/feedline.jar",
        List.of("fence", "--runs", "1"));
    assertThat(bench).containsExactly("/jdk/bin/java", "-Xmx2g", "--add-opens=java.base/java.lang=ALL-UNNAMED", "-cp",
        "/b/feedline-bench.jar" + File.pathSeparator + "node-runtime/target/feedline.jar", "io.feedline.bench.BenchCommand", "fence",
        "--runs", "1");
    List<String> simulate = CompanionJar.SIMULATION.command(Path.of("/jdk/bin/java"), List.of("-Xmx1g"), List.of(),
        Path.of("/s/feedline-sim.jar"), "feedline.jar", List.of("--seeds", "3", "--mutation", "stale-epoch"));
    assertThat(simulate).containsExactly("/jdk/bin/java", "-Xmx1g", "-cp", "/s/feedline-sim.jar" + File.pathSeparator + "feedline.jar",
        "io.feedline.simulation.SimulateCommand", "--seeds", "3", "--mutation", "stale-epoch");
  }

  @Test
  void everythingAfterTheSubcommandIsTheChildsToParse() {
    CommandLine main = Main.commandLine();
    for (String command : List.of("bench", "simulate")) {
      CommandLine.ParseResult parsed = main.parseArgs(command, "--seeds", "3", "--help", "-V", "x");
      CommandLine.ParseResult sub = parsed.subcommand();
      assertThat(sub.commandSpec().name()).isEqualTo(command);
      assertThat(sub.unmatched()).as(command).containsExactly("--seeds", "3", "--help", "-V", "x");
    }
  }

  @Test
  void theChildWatchesTheParentUnderTheNameTheLauncherPassesIt() {
    assertThat(CompanionLauncher.PARENT_PROPERTY).isEqualTo(ParentWatch.PROPERTY);
  }

  @Test
  void theManifestsOpeningsBecomeCommandLineOptions() {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Add-Opens", "java.base/java.lang java.base/sun.nio.ch");
    manifest.getMainAttributes().putValue("Add-Exports", "java.base/jdk.internal.ref");
    assertThat(CompanionLauncher.openings(manifest)).containsExactly("--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED");
    assertThat(CompanionLauncher.openings(new Manifest())).isEmpty();
  }
}
