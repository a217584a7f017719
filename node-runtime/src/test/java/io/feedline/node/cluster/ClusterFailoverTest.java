package io.feedline.node.cluster;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.proto.ChangefeedInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three clustered nodes in one JVM on a real etcd: 100 changefeeds are created, some moved, then the
 * coordinator's node crashes. In the end every changefeed is owned by exactly one maintainer, on a live
 * node, running at the persisted epoch — and the new coordinator agrees.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterFailoverTest {

  private static final int CHANGEFEEDS = 100;
  private static EtcdServer etcd;
  private static final List<NodeRuntime> nodes = new ArrayList<>();
  private static Vertx observerVertx;
  private static MetaStore observer;
  private static ChangefeedStore registry;

  @BeforeAll
  static void startCluster() {
    System.setProperty("hazelcast.wait.seconds.before.join", "0");
    System.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    etcd = EtcdServer.start();
    String clusterId = "failover" + UUID.randomUUID().toString().substring(0, 8);
    Timings fast = Timings.fromMap(Map.of("session-ttl", Duration.ofSeconds(5)));
    for (int i = 0; i < 3; i++) {
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "failover", clusterId, "n" + i), List.of(etcd.endpoint()),
          true, clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", fast);
      nodes.add(await(NodeRuntime.start(config), Await.NODE_START));
    }
    observerVertx = Vertx.vertx();
    observer = MetaStores.etcd(observerVertx, List.of(etcd.endpoint()));
    registry = new ChangefeedStore(observer, new MetaKeys(clusterId));
  }

  @AfterAll
  static void stopCluster() {
    for (NodeRuntime n : nodes) {
      n.stop().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
    if (observer != null) {
      await(observer.close());
      await(observerVertx.close());
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void everyChangefeedEndsWithOneMaintainerAtThePersistedEpochAfterMovesAndACoordinatorCrash() {
    NodeRuntime leader = awaitLeader(nodes);
    for (int i = 0; i < CHANGEFEEDS; i++) {
      String id = String.format("cf-%03d", i);
      // A throttled upstream: this test is about ownership; 100 unthrottled changefeeds would only burn the CPU it needs.
      ClusterProbe.onCoordinator(leader, c -> c.create(ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1&rate=1000")
          .setSinkUri("blackhole://").build()));
    }
    awaitConverged("all placed", nodes, leader);

    // Move ten changefeeds to another node each.
    Map<ChangefeedId, NodeId> owners = ClusterProbe.onCoordinator(leader, c -> Future.succeededFuture(c.maintainers()));
    List<NodeId> ids = nodes.stream().map(NodeRuntime::nodeId).toList();
    Map<ChangefeedId, NodeId> moves = new HashMap<>();
    for (var e : owners.entrySet()) {
      if (moves.size() == 10) {
        break;
      }
      NodeId dest = ids.get((ids.indexOf(e.getValue()) + 1) % ids.size());
      ClusterProbe.onCoordinator(leader, c -> c.moveMaintainer(e.getKey(), dest));
      moves.put(e.getKey(), dest);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!moves.entrySet().stream().allMatch(m -> m.getValue().equals(
        ClusterProbe.onCoordinator(leader, c -> Future.succeededFuture(c.maintainers())).get(m.getKey())))) {
      assertThat(System.nanoTime()).as("moves landed on their destinations").isLessThan(deadline);
      pause();
    }
    awaitConverged("moves done", nodes, leader);

    // The coordinator's node dies (no clean leave: its session lease has to expire).
    // Not awaited: how long the dead node's own teardown takes does not matter to the others.
    leader.crash();
    List<NodeRuntime> survivors = nodes.stream().filter(n -> n != leader).toList();
    NodeRuntime newLeader = awaitLeader(survivors);
    assertThat(newLeader).isNotSameAs(leader);
    awaitConverged("after the coordinator crash", survivors, newLeader);
    nodes.remove(leader);
  }

  private static NodeRuntime awaitLeader(List<NodeRuntime> candidates) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Optional<NodeRuntime> leader = ClusterProbe.leader(candidates);
      if (leader.isPresent()) {
        return leader.get();
      }
      pause();
    }
    throw new AssertionError("no coordinator elected and bootstrapped among " + candidates.stream().map(NodeRuntime::nodeId).toList());
  }

  /**
   * Every changefeed: exactly one live node runs a maintainer for it, at the persisted epoch, and the
   * coordinator's view names that node.
   */
  private static void awaitConverged(String what, List<NodeRuntime> live, NodeRuntime leader) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String last = "";
    while (System.nanoTime() < deadline) {
      List<ChangefeedRecord> persisted = await(registry.loadAll());
      last = persisted.size() != CHANGEFEEDS
          ? "persisted changefeeds: " + persisted.size()
          : ClusterProbe.maintainerDivergence(persisted, live, leader);
      if (last.isEmpty()) {
        return;
      }
      pause();
    }
    throw new AssertionError(what + ": not converged: " + last);
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
