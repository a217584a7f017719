package io.feedline.node.process;

import static io.feedline.node.process.ServerProcess.tsoNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.feedline.common.testing.PostgresServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * datagen into a real PostgreSQL on three clustered nodes (issue 15's cluster test): the maintainer's node is
 * killed with SIGKILL mid-stream, then a node holding dispatchers; replication goes on from the two
 * survivors, and once the changefeed is paused {@code feedline check} finds the database's tables equal to
 * the source replayed to the checkpoints recorded with them.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class PostgresReplicationIT {

  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final String SOURCE = "datagen://?tables=6&seed=31&rate=200";
  private static final String ID = "pg";

  @Test
  void killedNodesLeaveTheDatabaseEqualToTheSource() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "postgres-replication-" + UUID.randomUUID()).toAbsolutePath());
    try (EtcdServer etcd = EtcdServer.start(); PostgresServer postgres = PostgresServer.start()) {
      String sink = postgres.uri(postgres.createDatabase("replica"));
      try (ProcessCluster cluster = ProcessCluster.start(work, etcd.endpoint(), 3)) {
        List<ServerProcess.Started> nodes = cluster.live();
        nodes.get(0).cliUntil(SETTLE, r -> r.exit() == 0, "changefeed", "create", "--id", ID, "--source", SOURCE, "--sink", sink);
        awaitCheckpointPast(nodes, tsoNow(), "the changefeed replicates the present");

        String maintainerNode = query(nodes).getString("node");
        cluster.kill(maintainerNode);
        awaitCheckpointPast(nodes, tsoNow(), "replication goes on after the maintainer's node was killed");

        String dispatcherNode = holdingDispatchers(nodes);
        cluster.kill(dispatcherNode);
        awaitCheckpointPast(nodes, tsoNow(), "replication goes on after a dispatcher-holding node was killed");

        cliOnAny(nodes, r -> r.exit() == 0, "pause", "changefeed", "pause", "--id", ID);
        cliOnAny(nodes, r -> r.exit() == 0 && new JsonArray(r.out()).stream().map(JsonObject.class::cast)
            .mapToLong(n -> n.getLong("dispatchers", 0L)).sum() == 0, "every dispatcher stopped", "node", "list", "-o", "json");
        ServerProcess.CliResult checked = ServerProcess.command("check", "--source", SOURCE, "--sink", sink);
        assertThat(checked.exit()).as(checked.toString()).isZero();
        assertThat(checked.out()).startsWith("equal: ");
        System.out.println("postgres replication (2 cores, 3 nodes, maintainer's and a dispatcher's node killed): " + checked.out());
      }
    }
  }

  /** A live node that holds dispatchers of the changefeed. */
  private static String holdingDispatchers(List<ServerProcess.Started> nodes) throws Exception {
    JsonArray list = new JsonArray(cliOnAny(nodes, r -> r.exit() == 0 && new JsonArray(r.out()).stream().map(JsonObject.class::cast)
        .anyMatch(n -> n.getLong("dispatchers", 0L) > 0), "a node holds dispatchers", "node", "list", "-o", "json").out());
    return list.stream().map(JsonObject.class::cast).filter(n -> n.getLong("dispatchers", 0L) > 0)
        .filter(n -> nodes.stream().anyMatch(s -> s.nodeId().equals(n.getString("id")))).findFirst().orElseThrow().getString("id");
  }

  private static void awaitCheckpointPast(List<ServerProcess.Started> nodes, long tso, String what) throws Exception {
    ServerProcess.awaitCheckpointPast(nodes, SETTLE, ID, tso, what);
  }

  private static JsonObject query(List<ServerProcess.Started> nodes) throws Exception {
    return new JsonObject(cliOnAny(nodes, r -> r.exit() == 0, "query", "changefeed", "query", "--id", ID, "-o", "json").out());
  }

  private static ServerProcess.CliResult cliOnAny(List<ServerProcess.Started> nodes, Predicate<ServerProcess.CliResult> done, String what,
      String... args) throws Exception {
    return ServerProcess.cliOnAny(nodes, SETTLE, done, what, args);
  }
}
