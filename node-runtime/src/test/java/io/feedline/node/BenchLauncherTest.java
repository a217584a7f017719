package io.feedline.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;

class BenchLauncherTest {

  private static final Path FAT_JAR = Path.of("/repo/node-runtime/target/feedline.jar");

  @Test
  void looksBesideTheJarThenInTheSourceTreesBenchModule() {
    assertThat(BenchLauncher.candidates(null, FAT_JAR)).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-bench.jar"), Path.of("/repo/bench/target/feedline-bench.jar"));
    assertThat(BenchLauncher.candidates("  ", FAT_JAR)).as("a blank variable is not set").hasSize(2);
  }

  @Test
  void fromAnIdesClassesDirectoryItLooksInTheSamePlaces() {
    assertThat(BenchLauncher.candidates(null, Path.of("/repo/node-runtime/target/classes"))).containsExactly(
        Path.of("/repo/node-runtime/target/feedline-bench.jar"), Path.of("/repo/bench/target/feedline-bench.jar"));
  }

  @Test
  void aDebuggersOptionsStayWithThisJvm() {
    assertThat(BenchLauncher.jvmOptions(List.of("-Xmx2g", "-agentlib:jdwp=transport=dt_socket,server=y,address=5005", "-Xdebug",
        "-Xrunjdwp:transport=dt_socket", "-Dx=1"))).containsExactly("-Xmx2g", "-Dx=1");
  }

  @Test
  void aJarNamedInTheEnvironmentIsTheOnlyOneLookedAt() {
    assertThat(BenchLauncher.candidates("/opt/feedline-bench.jar", FAT_JAR)).containsExactly(Path.of("/opt/feedline-bench.jar"));
  }

  @Test
  void theChildGetsThisJvmsOptionsTheOpeningsAndTheBenchJarFirst() {
    List<String> command = BenchLauncher.command(Path.of("/jdk/bin/java"), List.of("-Xmx2g"), List.of("--add-opens=java.base/java.lang=ALL-UNNAMED"),
        Path.of("/b/feedline-bench.jar"), "node-runtime/target/feedline.jar", List.of("fence", "--runs", "1"));
    assertThat(command).containsExactly("/jdk/bin/java", "-Xmx2g", "--add-opens=java.base/java.lang=ALL-UNNAMED", "-cp",
        "/b/feedline-bench.jar" + File.pathSeparator + "node-runtime/target/feedline.jar", BenchLauncher.BENCH_MAIN, "fence", "--runs", "1");
  }

  @Test
  void theManifestsOpeningsBecomeCommandLineOptions() {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Add-Opens", "java.base/java.lang java.base/sun.nio.ch");
    manifest.getMainAttributes().putValue("Add-Exports", "java.base/jdk.internal.ref");
    assertThat(BenchLauncher.openings(manifest)).containsExactly("--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED");
    assertThat(BenchLauncher.openings(new Manifest())).isEmpty();
  }
}
