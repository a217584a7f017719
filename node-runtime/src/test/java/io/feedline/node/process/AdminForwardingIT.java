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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two clustered servers on a real etcd: admin requests sent to the node that does not lead are forwarded
 * to the coordinator's node (token included), and a resign moves the coordinator to the other node.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AdminForwardingIT {

  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final String TOKEN = "fwd-" + UUID.randomUUID();

  @Test
  void followerForwardsToTheCoordinatorAndResignMovesIt() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "admin-forwarding-" + UUID.randomUUID()));
    String clusterId = "fwd" + UUID.randomUUID().toString().substring(0, 8);
    try (EtcdServer etcd = EtcdServer.start();
         ServerProcess a = ServerProcess.start(work.resolve("a.log"), server(etcd, clusterId, work.resolve("a")));
         ServerProcess b = ServerProcess.start(work.resolve("b.log"), server(etcd, clusterId, work.resolve("b")))) {
      ServerProcess.Started sa = a.awaitStarted(START);
      ServerProcess.Started sb = b.awaitStarted(START);

      JsonArray nodes = new JsonArray(sa.cliUntil(SETTLE, r -> r.exit() == 0 && new JsonArray(r.out()).size() == 2,
          "--token", TOKEN, "node", "list", "-o", "json").out());
      String leader = coordinatorOf(nodes);
      ServerProcess.Started follower = leader.equals(sa.nodeId()) ? sb : sa;

      String id = "fwd-" + UUID.randomUUID().toString().substring(0, 8);
      ServerProcess.CliResult created = follower.cli("--token", TOKEN, "changefeed", "create", "--id", id,
          "--source", "datagen://?tables=1&rate=1000", "--sink", "blackhole://", "-o", "json");
      assertThat(created.exit()).as(created.toString()).isZero();
      assertThat(new JsonObject(created.out()).getString("id")).isEqualTo(id);
      assertThat(follower.cli("--token", TOKEN, "changefeed", "query", "--id", id).out()).contains(id);
      ServerProcess.CliResult unknown = follower.cli("--token", TOKEN, "changefeed", "query", "--id", "missing-" + id);
      assertThat(unknown.exit()).isEqualTo(1);
      assertThat(unknown.err()).startsWith("feedline: NOT_FOUND: ");
      // Authentication happens where the request enters: a wrong token is never forwarded.
      assertThat(follower.cli("--token", "wrong", "changefeed", "list").err()).startsWith("feedline: UNAUTHENTICATED: ");

      ServerProcess.CliResult resigned = follower.cli("--token", TOKEN, "coordinator", "resign");
      assertThat(resigned.exit()).as(resigned.toString()).isZero();
      sa.cliUntil(SETTLE, r -> r.exit() == 0 && coordinatorOf(new JsonArray(r.out())).equals(follower.nodeId()),
          "--token", TOKEN, "node", "list", "-o", "json");
      // The new coordinator adopted the changefeed from the metastore; the old leader's node now forwards.
      ServerProcess.Started oldLeader = follower == sa ? sb : sa;
      oldLeader.cliUntil(SETTLE, r -> r.exit() == 0, "--token", TOKEN, "changefeed", "query", "--id", id);
    }
  }

  private static String[] server(EtcdServer etcd, String clusterId, Path dataDir) {
    return new String[] {"server", "--etcd", etcd.endpoint(), "--cluster", "--cluster-id", clusterId, "--port", "0",
        "--config", "conf/node.yaml", "--token", TOKEN, "--data-dir", dataDir.toAbsolutePath().toString()};
  }

  private static String coordinatorOf(JsonArray nodes) {
    return nodes.stream().map(JsonObject.class::cast).filter(n -> n.getBoolean("coordinator"))
        .map(n -> n.getString("id")).findFirst().orElse("");
  }
}
