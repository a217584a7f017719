package io.feedline.node.process;

import static io.feedline.node.process.ServerProcess.tsoNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A metastore outage is not a cluster outage: three clustered server processes on a real etcd replicate
 * datagen into a file sink while etcd is (1) killed with SIGKILL and started again 5 s later, (2) frozen
 * with SIGSTOP for 5 s, both shorter than the session's validity (TTL 10 s minus 2 s), and (3) stopped
 * for twice the TTL. After the short ones no process exited or rejoined, the maintainer did not move (same
 * epoch, same node) and the checkpoint moves on; after the long one every node fenced itself and joined
 * again in its own process, and exactly one maintainer runs the changefeed. Then the sink equals the
 * source. The seconds from the store's return to the checkpoint passing it are printed per outage.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class MetastoreOutageIT {

  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final Duration TTL = Duration.ofSeconds(10);
  private static final String SOURCE = "datagen://?tables=8&seed=13&rate=50";
  private static final String ID = "outage";

  @Test
  void shortOutagesCostNothingAndALongOneIsRiddenOutByRejoining() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "metastore-outage-" + UUID.randomUUID()).toAbsolutePath());
    Path sink = work.resolve("sink");
    try (EtcdServer etcd = EtcdServer.start()) {
      try (ProcessCluster cluster = ProcessCluster.start(work, etcd.endpoint(), 3)) {
        List<ServerProcess> servers = cluster.servers();
        List<ServerProcess.Started> nodes = cluster.live();
        ServerProcess.Started any = nodes.get(0);
        any.cliUntil(SETTLE, r -> r.exit() == 0, "changefeed", "create", "--id", ID, "--source", SOURCE, "--sink", "file://" + sink);
        awaitCheckpointPast(nodes, tsoNow(), "the changefeed replicates the present");
        JsonObject before = query(nodes);

        etcd.crash();
        long crashed = System.nanoTime();
        awaitHealth(any, h -> !h.getJsonObject("metastore").getBoolean("reachable") && h.getJsonObject("metastore").getString("unreachableSince") != null,
            "/health says the metastore is unreachable");
        Thread.sleep(Math.max(0, 5_000 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashed)));
        etcd.startAgain();
        long back = tsoNow();
        awaitHealth(any, h -> h.getJsonObject("metastore").getBoolean("reachable"), "/health says the metastore is reachable again");
        double resumed = awaitCheckpointPast(nodes, back, "replication resumes after etcd was killed for 5 s");
        assertNothingMoved(servers, nodes, before, "etcd killed for 5 s");
        System.out.printf("metastore outage (2 cores): kill -9 for 5 s: 0 node exits, 0 rejoins, 0 maintainer moves, "
            + "checkpoint past the store's return after %.1f s%n", resumed);

        etcd.freeze();
        try {
          Thread.sleep(5_000);
        } finally {
          etcd.thaw();
        }
        back = tsoNow();
        resumed = awaitCheckpointPast(nodes, back, "replication resumes after etcd hung for 5 s");
        assertNothingMoved(servers, nodes, before, "etcd hung for 5 s");
        System.out.printf("metastore outage (2 cores): SIGSTOP for 5 s: 0 node exits, 0 rejoins, 0 maintainer moves, "
            + "checkpoint past the store's return after %.1f s%n", resumed);

        etcd.crash();
        Thread.sleep(TTL.multipliedBy(2).toMillis());
        etcd.startAgain();
        back = tsoNow();
        for (ServerProcess s : servers) {
          assertThat(s.awaitLine(l -> l.contains("event=node_rejoined"), SETTLE)).as("every node fenced itself and rejoined in-process")
              .isPresent();
        }
        // A node may rejoin more than once while etcd comes back (a session granted in the first seconds can be lost
        // again before the store settles): every call goes to each server's latest incarnation.
        Supplier<List<ServerProcess.Started>> rejoined = () -> servers.stream().map(ServerProcess::lastStarted).toList();
        resumed = ServerProcess.awaitCheckpointPast(rejoined, SETTLE, ID, back, "replication resumes after etcd was away for twice the TTL");
        JsonArray list = new JsonArray(ServerProcess.cliOnAny(rejoined, SETTLE, r -> r.exit() == 0 && new JsonArray(r.out()).size() == 3,
            "three nodes listed", "node", "list", "-o", "json").out());
        long maintainers = list.stream().map(JsonObject.class::cast).mapToLong(n -> n.getLong("maintainers", 0L)).sum();
        assertThat(maintainers).as("exactly one maintainer runs the changefeed: %s", list).isEqualTo(1);
        assertThat(servers).as("no process exited").allMatch(ServerProcess::isAlive);
        System.out.printf("metastore outage (2 cores): etcd away for %d s: 0 node exits, 3 in-process rejoins, "
            + "checkpoint past the store's return after %.1f s%n", TTL.multipliedBy(2).toSeconds(), resumed);

        ServerProcess.cliOnAny(rejoined, SETTLE, r -> r.exit() == 0, "paused", "changefeed", "pause", "--id", ID);
        ServerProcess.cliOnAny(rejoined, SETTLE, r -> r.exit() == 0 && new JsonArray(r.out()).stream().map(JsonObject.class::cast)
            .mapToLong(n -> n.getLong("dispatchers", 0L)).sum() == 0, "no dispatcher left", "node", "list", "-o", "json");
      }
    }
    ServerProcess.CliResult checked = ServerProcess.command("check", "--source", SOURCE, "--sink", "file://" + sink);
    assertThat(checked.exit()).as(checked.toString()).isZero();
    assertThat(checked.out()).startsWith("equal: ");
  }

  /** No process exited or rejoined, and the changefeed kept its maintainer (same node, same epoch). */
  private static void assertNothingMoved(List<ServerProcess> servers, List<ServerProcess.Started> nodes, JsonObject before, String after)
      throws Exception {
    assertThat(servers).as("no process exited after %s", after).allMatch(ServerProcess::isAlive);
    for (ServerProcess s : servers) {
      assertThat(s.log()).as("no node fenced itself after %s", after).noneMatch(l -> l.contains("event=node_rejoining"));
    }
    JsonObject now = query(nodes);
    assertThat(now.getString("node")).as("maintainer node after %s", after).isEqualTo(before.getString("node"));
    assertThat(now.getValue("epoch").toString()).as("epoch after %s", after).isEqualTo(before.getValue("epoch").toString());
    assertThat(now.getString("state")).isEqualTo("NORMAL");
  }

  private static void awaitHealth(ServerProcess.Started node, Predicate<JsonObject> done, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    JsonObject health;
    do {
      health = new JsonObject(node.get("/health"));
      if (done.test(health)) {
        return;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError(what + ": not within 5 s; last: " + health.encode());
  }

  private static double awaitCheckpointPast(List<ServerProcess.Started> nodes, long tso, String what) throws Exception {
    return ServerProcess.awaitCheckpointPast(nodes, SETTLE, ID, tso, what);
  }

  private static JsonObject query(List<ServerProcess.Started> nodes) throws Exception {
    return new JsonObject(cliOnAny(nodes, r -> r.exit() == 0, "query", "changefeed", "query", "--id", ID, "-o", "json").out());
  }

  private static ServerProcess.CliResult cliOnAny(List<ServerProcess.Started> nodes, Predicate<ServerProcess.CliResult> done, String what,
      String... args) throws Exception {
    return ServerProcess.cliOnAny(nodes, SETTLE, done, what, args);
  }

}
