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
 * to the coordinator's node (token included), a resign moves the coordinator to the other node, and a
 * drain of the coordinator's node hands the leadership over first, moves its maintainer away and leaves
 * it STOPPING.
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

      // Drain the coordinator's own node, through the other node: the coordinator first hands its
      // leadership over (the CLI retries meanwhile), then the new coordinator drains it to 0.
      ServerProcess.Started drainedNode = follower;
      ServerProcess.Started survivor = oldLeader;
      ServerProcess.CliResult drained = survivor.cli("--token", TOKEN, "node", "drain", "--node", drainedNode.nodeId(), "-o", "json",
          "--interval", "200");
      assertThat(drained.exit()).as(drained.toString()).isZero();
      assertThat(new JsonObject(drained.out()).getLong("remaining")).isZero();
      JsonArray after = new JsonArray(survivor.cli("--token", TOKEN, "node", "list", "-o", "json").out());
      assertThat(coordinatorOf(after)).as("the leadership moved off the drained node").isEqualTo(survivor.nodeId());
      assertThat(after.stream().map(JsonObject.class::cast).filter(n -> n.getString("id").equals(drainedNode.nodeId()))
          .map(n -> n.getString("liveness") + " " + n.getString("state"))).containsExactly("STOPPING stopping");
      JsonObject view = new JsonObject(survivor.cli("--token", TOKEN, "changefeed", "query", "--id", id, "-o", "json").out());
      assertThat(view.getString("node")).as("the maintainer left the drained node").isEqualTo(survivor.nodeId());
      // Asking again is idempotent; --no-wait answers at once.
      ServerProcess.CliResult again = drainedNode.cli("--token", TOKEN, "node", "drain", "--node", drainedNode.nodeId(), "--no-wait", "-o", "json");
      assertThat(again.exit()).as(again.toString()).isZero();
      assertThat(new JsonObject(again.out()).getLong("remaining")).isZero();
      // One drain at a time: until the drained node leaves, no other drain starts.
      ServerProcess.CliResult other = survivor.cli("--token", TOKEN, "node", "drain", "--node", survivor.nodeId(), "--no-wait");
      assertThat(other.exit()).isEqualTo(1);
      assertThat(other.err()).startsWith("feedline: FAILED_PRECONDITION: ").contains(drainedNode.nodeId() + " is drained but has not left");
      // Gauges are refreshed every coordinator tick (rows re-registered): poll for the line.
      String drainGauge = "feedline_coordinator_drain_remaining{node=\"" + drainedNode.nodeId() + "\"} 0.0";
      long deadline = System.nanoTime() + SETTLE.toNanos();
      while (!survivor.get("/metrics").lines().anyMatch(drainGauge::equals)) {
        assertThat(System.nanoTime()).as("metric line " + drainGauge).isLessThan(deadline);
        Thread.sleep(200);
      }
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
