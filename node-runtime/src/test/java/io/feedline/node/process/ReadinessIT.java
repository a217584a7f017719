package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * As an operator's automation does it (issue 19): start three clustered servers, wait until {@code node list}
 * shows three nodes, and create a changefeed at that moment, with no sleep in between. The create must
 * succeed even when the coordinator was elected on a node whose admin API is not serving yet: a request that
 * no coordinator has seen is forwarded again until one takes it.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReadinessIT {

  @Test
  void aChangefeedCreatedTheMomentNodeListShowsThreeNodesIsCreated() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "readiness-" + UUID.randomUUID()).toAbsolutePath());
    String clusterId = "rd" + UUID.randomUUID().toString().substring(0, 8);
    List<ServerProcess> servers = new ArrayList<>();
    try (EtcdServer etcd = EtcdServer.start()) {
      long start = System.nanoTime();
      for (int i = 0; i < 3; i++) {
        servers.add(ServerProcess.start(work.resolve("node" + i + ".log"), "server", "--etcd", etcd.endpoint(), "--cluster",
            "--cluster-id", clusterId, "--port", "0", "--data-dir", work.resolve("node" + i).toString()));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      // The kernel picks the admin port (a port probed free and bound seconds later was once taken in between); the
      // first node's started line says which, and comes before the other two are listed.
      String server = "127.0.0.1:" + servers.get(0).awaitStarted(Duration.ofSeconds(120)).port();
      ServerProcess.CliResult listed;
      do {
        listed = ServerProcess.command("cli", "--server", server, "node", "list", "-o", "json");
        assertThat(System.nanoTime()).as("node list shows three nodes within 120 s; last: %s", listed).isLessThan(deadline);
      } while (listed.exit() != 0 || new JsonArray(listed.out()).size() < 3);
      double listedAfter = (System.nanoTime() - start) / 1e9;

      ServerProcess.CliResult created = ServerProcess.command("cli", "--server", server, "changefeed", "create", "--id", "ready",
          "--source", "datagen://?tables=2&rate=100", "--sink", "blackhole://", "-o", "json");
      assertThat(created.exit()).as(created.toString()).isZero();
      do {
        listed = ServerProcess.command("cli", "--server", server, "node", "list", "-o", "json");
        assertThat(System.nanoTime()).as("node list shows three ready nodes within 120 s; last: %s", listed).isLessThan(deadline);
      } while (listed.exit() != 0 || new JsonArray(listed.out()).stream().map(JsonObject.class::cast)
          .filter(n -> n.getString("state").equals("ready")).count() < 3);
      double readyAfter = (System.nanoTime() - start) / 1e9;
      System.out.printf("readiness (2 cores, 3 clustered processes started together): node list showed 3 nodes %.1f s after the first "
          + "start, all ready %.1f s after it; create issued at once succeeded%n", listedAfter, readyAfter);
    } finally {
      for (ServerProcess s : servers) {
        s.close();
      }
    }
  }
}
