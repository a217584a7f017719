package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code scripts/run.sh}, the README's first command: the node comes up in the foreground, a demo changefeed
 * is created only when the node holds none, and SIGTERM to the script stops the node cleanly (exit 0).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RunScriptIT {

  private static final Pattern UP = Pattern.compile("run\\.sh: node up, admin API on 127\\.0\\.0\\.1:(\\d+)");

  @Test
  void createsTheDemoOnceAndStopsCleanlyOnSigterm() throws Exception {
    Path data = Files.createDirectories(Path.of("target", "it", "run-script-" + UUID.randomUUID())).toAbsolutePath();

    try (Run first = Run.start(data, data.resolve("first.out"))) {
      ServerProcess.Started node = first.awaitUp();
      assertThat(first.output()).contains("run.sh: created changefeed 'demo'");
      JsonObject demo = new JsonObject(node.cliUntil(Duration.ofSeconds(30), r -> r.exit() == 0, "changefeed", "query", "--id", "demo", "-o", "json").out());
      assertThat(demo.getString("sinkUri")).isEqualTo("file://" + data.resolve("demo-sink"));
      assertThat(demo.getString("sourceUri")).isEqualTo("datagen://?tables=8&seed=7&rate=50");
      assertThat(first.stop()).as("exit code after SIGTERM; output:\n%s", first.output()).isZero();
      assertThat(first.output()).contains("event=node_stopped");
    }

    try (Run second = Run.start(data, data.resolve("second.out"))) {
      ServerProcess.Started again = second.awaitUp();
      assertThat(second.output()).doesNotContain("run.sh: created changefeed");
      JsonArray all = new JsonArray(again.cliUntil(Duration.ofSeconds(30), r -> r.exit() == 0, "changefeed", "list", "-o", "json").out());
      assertThat(all.stream().map(o -> ((JsonObject) o).getString("id"))).containsExactly("demo");
      assertThat(second.stop()).isZero();
    }
  }

  /** One run of the script, its output (the server's log and the script's own lines) in a file. */
  private record Run(Process process, Path out) implements AutoCloseable {

    static Run start(Path data, Path out) throws Exception {
      ProcessBuilder pb = new ProcessBuilder("bash", "scripts/run.sh", "--port", "0")
          .directory(ServerProcess.repo().toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
      pb.environment().put("FEEDLINE_DATA_DIR", data.toString());
      return new Run(pb.start(), out);
    }

    String output() throws Exception {
      return Files.readString(out, StandardCharsets.UTF_8);
    }

    ServerProcess.Started awaitUp() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && process.isAlive()) {
        Matcher m = UP.matcher(output());
        if (m.find()) {
          return new ServerProcess.Started("", Integer.parseInt(m.group(1)));
        }
        Thread.sleep(200);
      }
      throw new AssertionError("run.sh never said the node is up; output:\n" + output());
    }

    /** SIGTERM to the script, which passes it on to the server. */
    int stop() throws Exception {
      process.toHandle().destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("run.sh did not exit; output:\n" + output());
      }
      return process.exitValue();
    }

    /** A failed assertion must not leave the node running: SIGTERM, which the script passes on. */
    @Override
    public void close() throws Exception {
      if (process.isAlive()) {
        stop();
      }
    }
  }
}
