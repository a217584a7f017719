package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fat jar as an operator runs it: real processes, a real etcd, SIGTERM to stop. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ServerProcessIT {

  private static final Duration START = Duration.ofSeconds(60);
  private static EtcdServer etcd;
  private static Path work;

  @BeforeAll
  static void startEtcd() throws Exception {
    work = Files.createDirectories(Path.of("target", "it", "server-process-" + UUID.randomUUID()));
    etcd = EtcdServer.start();
  }

  @AfterAll
  static void stopEtcd() {
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void twoClusteredServersRegisterInEtcdSeeEachOtherAndLeaveCleanlyOnSigterm() throws Exception {
    String clusterId = "it" + UUID.randomUUID().toString().substring(0, 8);
    String[] common = {"server", "--etcd", etcd.endpoint(), "--cluster", "--cluster-id", clusterId, "--port", "0", "--config", "conf/node.yaml"};
    try (ServerProcess a = ServerProcess.start(work.resolve("a.log"), concat(common, "--data-dir", work.resolve("a").toAbsolutePath().toString()));
         ServerProcess b = ServerProcess.start(work.resolve("b.log"), concat(common, "--data-dir", work.resolve("b").toAbsolutePath().toString()))) {
      ServerProcess.Started sa = a.awaitStarted(START);
      ServerProcess.Started sb = b.awaitStarted(START);

      awaitMembers(sa, sa.nodeId(), sb.nodeId());
      awaitMembers(sb, sa.nodeId(), sb.nodeId());
      assertThat(sa.get("/metrics")).contains("feedline_cluster_members 2.0").contains("vertx_eventbus_handlers");

      a.terminate();
      assertThat(a.awaitExit(Duration.ofSeconds(30))).as("exit code after SIGTERM").isZero();
      assertThat(a.log()).anyMatch(l -> l.contains("event=node_stopped"));
      // Leaving revokes the session lease, so the other node sees it go at once (not after the TTL).
      awaitMembers(sb, sb.nodeId());
      assertThat(b.isAlive()).isTrue();
    }
  }

  /**
   * A single node on the embedded store, killed with SIGKILL and started again on its data dir, keeps its
   * changefeed and resumes it from the checkpoint it had persisted (never below it), and the sink then
   * equals the source. A second, clean restart (SIGTERM) exits 0.
   */
  @Test
  void singleNodeOnTheEmbeddedStoreRestartsOnItsDataDirAndResumesItsChangefeed() throws Exception {
    Path data = work.resolve("single").toAbsolutePath();
    Path sink = work.resolve("single-sink").toAbsolutePath();
    String source = "datagen://?tables=3&seed=21&rate=50";
    long persisted;
    try (ServerProcess p = ServerProcess.start(work.resolve("single-0.log"), "server", "--port", "0", "--data-dir", data.toString())) {
      ServerProcess.Started s = p.awaitStarted(START);
      awaitMembers(s, s.nodeId());
      s.cliUntil(Duration.ofSeconds(30), r -> r.exit() == 0, "changefeed", "create", "--id", "kept", "--source", source, "--sink", "file://" + sink);
      long created = System.currentTimeMillis() << 18;
      persisted = checkpointOf(s.cliUntil(Duration.ofSeconds(60), r -> r.exit() == 0 && checkpointOf(r) > created,
          "changefeed", "query", "--id", "kept", "-o", "json"));
      p.kill();
    }
    try (ServerProcess p = ServerProcess.start(work.resolve("single-1.log"), "server", "--port", "0", "--data-dir", data.toString())) {
      ServerProcess.Started s = p.awaitStarted(START);
      long restarted = System.currentTimeMillis() << 18;
      ServerProcess.CliResult first = s.cliUntil(Duration.ofSeconds(60), r -> r.exit() == 0, "changefeed", "query", "--id", "kept", "-o", "json");
      assertThat(checkpointOf(first)).as("kept, and never below the checkpoint it had persisted").isGreaterThanOrEqualTo(persisted);
      ServerProcess.CliResult resumed = s.cliUntil(Duration.ofSeconds(60), r -> r.exit() == 0 && checkpointOf(r) > restarted,
          "changefeed", "query", "--id", "kept", "-o", "json");
      assertThat(new JsonObject(resumed.out()).getString("state")).isEqualTo("NORMAL");
      s.cliUntil(Duration.ofSeconds(30), r -> r.exit() == 0, "changefeed", "pause", "--id", "kept");
      s.cliUntil(Duration.ofSeconds(30), r -> r.exit() == 0 && new JsonArray(r.out()).getJsonObject(0).getLong("dispatchers") == 0,
          "node", "list", "-o", "json");
      p.terminate();
      assertThat(p.awaitExit(Duration.ofSeconds(30))).isZero();
    }
    assertThat(data.resolve("meta")).exists();
    ServerProcess.CliResult checked = ServerProcess.command("check", "--source", source, "--sink", "file://" + sink);
    assertThat(checked.exit()).as(checked.toString()).isZero();
  }

  private static long checkpointOf(ServerProcess.CliResult query) {
    return Long.parseUnsignedLong(new JsonObject(query.out()).getValue("checkpointTs").toString());
  }

  @Test
  void badConfigurationExitsWithCodeTwoAndOneClearReason() throws Exception {
    try (ServerProcess p = ServerProcess.start(work.resolve("bad.log"), "server", "--port", "eighty", "--cluster")) {
      assertThat(p.awaitExit(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(String.join("\n", p.log()))
          .contains("port: 'eighty' is not a number (from flag --port)");
    }
  }

  private static void awaitMembers(ServerProcess.Started node, String... expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonObject health = null;
    while (System.nanoTime() < deadline) {
      health = new JsonObject(node.get("/health"));
      if (health.getJsonArray("members").getList().stream().sorted().toList()
          .equals(java.util.Arrays.stream(expected).sorted().toList())) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node " + node.nodeId() + " never saw exactly " + java.util.Arrays.toString(expected) + ": " + health);
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
