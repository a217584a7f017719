package io.feedline.node.cluster;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.CoordinatorVerticle;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.NodeLiveness;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three clustered nodes in one JVM on a real etcd: a node hosting maintainers is drained through the
 * coordinator, asked repeatedly as the admin API does, until nothing remains. Throughout, no changefeed ever
 * runs two maintainers; in the end the node is STOPPING with no maintainer, every other node acknowledged
 * the target, the drained node is out of the coordinator election for good, and once the node leaves the
 * target is cleared everywhere.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterDrainTest {

  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofMillis(100);

  private static final int CHANGEFEEDS = 30;
  private static EtcdServer etcd;
  private static String clusterId;
  private static final List<NodeRuntime> nodes = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    System.setProperty("hazelcast.wait.seconds.before.join", "0");
    System.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    etcd = EtcdServer.start();
    clusterId = "drain" + UUID.randomUUID().toString().substring(0, 8);
    Timings fast = Timings.fromMap(Map.of("session-ttl", Duration.ofSeconds(5), "node-heartbeat", Duration.ofSeconds(1),
        "drain-target-resend", Duration.ofSeconds(1)));
    for (int i = 0; i < 3; i++) {
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "drain", clusterId, "n" + i), List.of(etcd.endpoint()),
          true, clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", fast);
      nodes.add(await(NodeRuntime.start(config), Await.NODE_START));
    }
  }

  @AfterAll
  static void stopCluster() {
    for (NodeRuntime n : nodes) {
      n.stop().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> null).join();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void drainingANodeHostingMaintainersReachesZeroWithNeverTwoMaintainersPerChangefeed() {
    NodeRuntime leader = awaitLeader();
    for (int i = 0; i < CHANGEFEEDS; i++) {
      String id = String.format("cf-%03d", i);
      onCoordinator(leader, c -> c.create(ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1").setSinkUri("blackhole://").build()));
    }
    NodeRuntime drained = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (running(drained).size() < 5 || placed(leader) < CHANGEFEEDS) {
      assertThat(System.nanoTime()).as("changefeeds placed, some on the node to drain").isLessThan(deadline);
      assertSingleMaintainerPerChangefeed();
      Await.pause(POLL);
    }

    long started = System.nanoTime();
    long remaining = onCoordinator(leader, c -> c.drain(drained.nodeId())).remaining();
    assertThat(remaining).isPositive();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (remaining > 0) {
      assertThat(System.nanoTime()).as("drained; last remaining " + remaining).isLessThan(deadline);
      assertSingleMaintainerPerChangefeed();
      Await.pause(POLL);
      remaining = onCoordinator(leader, c -> c.drain(drained.nodeId())).remaining();
    }
    System.out.printf("drain of %d maintainers (of %d changefeeds, 3 nodes) took %d ms%n", CHANGEFEEDS / 3, CHANGEFEEDS,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

    assertThat(running(drained)).isEmpty();
    Map<ChangefeedId, NodeId> owners = onCoordinator(leader, c -> Future.succeededFuture(c.maintainers()));
    assertThat(owners).hasSize(CHANGEFEEDS).doesNotContainValue(drained.nodeId());
    Await.until("the drained node STOPPING", SETTLE, () -> onContext(drained.maintainerRole().context(),
        () -> Future.succeededFuture(drained.maintainerRole().liveness())) == NodeLiveness.NODE_LIVENESS_STOPPING);
    NodeDrainTarget target = onCoordinator(leader, c -> Future.succeededFuture(c.nodeReports().get(leader.nodeId()).acknowledged()));
    assertThat(target.node()).isEqualTo(drained.nodeId());
    // A drained node can never be elected later: its candidacy is gone from the election, the others' stay.
    assertThat(drained.coordinatorRole().candidate()).isFalse();
    Await.until("the drained node out of the election", SETTLE, () -> !candidates().contains(drained.nodeId().value()));
    assertThat(candidates()).contains(leader.nodeId().value()).hasSize(2);

    // The node leaves: the target is cleared at its epoch on the remaining nodes.
    await(drained.stop());
    nodes.remove(drained);
    Await.until("target cleared", SETTLE, () -> nodes.stream().allMatch(n ->
        onCoordinator(leader, c -> Future.succeededFuture(Optional.ofNullable(c.nodeReports().get(n.nodeId()))
            .map(r -> r.acknowledged().equals(NodeDrainTarget.cleared(target.epoch()))).orElse(false)))));
    Optional<Map.Entry<NodeId, Long>> status = onCoordinator(leader, c -> Future.succeededFuture(c.drainStatus()));
    assertThat(status).isEmpty();
  }

  /** The proposals (node ids) of every campaign key in the coordinator election, leader first or not. */
  private static List<String> candidates() {
    MetaStore store = MetaStores.etcd(nodes.get(0).vertx(), List.of(etcd.endpoint()));
    try {
      return await(store.getPrefix(new MetaKeys(clusterId).coordinatorElection() + "/")).kvs().stream()
          .map(kv -> new String(kv.value(), StandardCharsets.UTF_8)).toList();
    } finally {
      await(store.close());
    }
  }

  private static long placed(NodeRuntime leader) {
    return onCoordinator(leader, c -> Future.succeededFuture(c.maintainers())).size();
  }

  private static Map<ChangefeedId, Long> running(NodeRuntime n) {
    return onContext(n.maintainerRole().context(), () -> Future.succeededFuture(n.maintainerRole().runningMaintainers()));
  }

  /** Sampled across nodes: a changefeed's maintainer runs on one node at a time (moves stop the origin first). */
  private static void assertSingleMaintainerPerChangefeed() {
    Map<ChangefeedId, List<NodeId>> where = new HashMap<>();
    for (NodeRuntime n : nodes) {
      running(n).keySet().forEach(cf -> where.computeIfAbsent(cf, k -> new ArrayList<>()).add(n.nodeId()));
    }
    where.forEach((cf, on) -> assertThat(on).as("maintainers of %s", cf).hasSize(1));
  }

  private static NodeRuntime awaitLeader() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (NodeRuntime n : nodes) {
        CoordinatorVerticle role = n.coordinatorRole();
        Boolean ready = onContext(role.context(), () -> Future.succeededFuture(role.coordinator().map(Coordinator::bootstrapped).orElse(false)));
        if (ready) {
          return n;
        }
      }
      Await.pause(POLL);
    }
    throw new AssertionError("no coordinator elected");
  }


  private static <T> T onCoordinator(NodeRuntime node, Function<Coordinator, Future<T>> action) {
    CoordinatorVerticle role = node.coordinatorRole();
    return onContext(role.context(), () -> {
      Optional<Coordinator> c = role.coordinator();
      return c.isPresent() ? action.apply(c.get()) : Future.failedFuture("not the coordinator");
    });
  }

  private static <T> T onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return await(done.future());
  }

}
