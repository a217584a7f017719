package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
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

  @Test
  void singleNodeOnTheEmbeddedStoreRestartsOnItsDataDir() throws Exception {
    Path data = work.resolve("single").toAbsolutePath();
    for (int run = 0; run < 2; run++) {
      try (ServerProcess p = ServerProcess.start(work.resolve("single-" + run + ".log"), "server", "--port", "0", "--data-dir", data.toString())) {
        ServerProcess.Started s = p.awaitStarted(START);
        awaitMembers(s, s.nodeId());
        p.terminate();
        assertThat(p.awaitExit(Duration.ofSeconds(30))).isZero();
      }
    }
    assertThat(data.resolve("meta")).exists();
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
