package io.feedline.node.simulation;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.messaging.FaultRules;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.node.NodeRuntime;
import io.feedline.node.testing.ClusterProbe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * N nodes in one JVM on one shared Vert.x and a real etcd, each with its own metastore client, talking
 * through their control buses with one seeded {@link FaultRules} on every bus's outbound side: drops,
 * delays, duplicates, reordering and partitions between node pairs. A crash cuts the node's bus both ways
 * first, then closes its metastore client without revoking its lease and undeploys its roles, so the
 * others learn of it only when the lease expires, as with {@code kill -9}. A restarted slot is a new node
 * with a new id, as a restarted process is.
 */
final class SimulatedCluster implements AutoCloseable {

  /** A short session TTL keeps failovers (and so a seed's run) short; it is the minimum a node accepts. */
  static final Duration SESSION_TTL = Timings.MIN_SESSION_TTL;

  private final EtcdServer etcd;
  private final Vertx vertx;
  private final FaultRules faults;
  private final String clusterId;
  private final Path dataRoot;
  private final NodeRuntime[] slots;
  private final MetaStore observer;
  private final ChangefeedStore registry;
  private final MetaHistory history;
  /** Nodes whose metastore session was lost: a process exits then (ServerCommand, code 3); see {@link #reapLost}. */
  private final Queue<NodeRuntime> lost = new ConcurrentLinkedQueue<>();

  private SimulatedCluster(int nodes, long seed) {
    this.etcd = EtcdServer.start();
    this.vertx = Vertx.vertx();
    this.faults = new FaultRules(seed);
    this.clusterId = "sim-" + Long.toUnsignedString(seed, 36) + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    this.dataRoot = Path.of("target", "simulation", clusterId);
    this.slots = new NodeRuntime[nodes];
    this.observer = MetaStores.etcd(vertx, List.of(etcd.endpoint()));
    MetaKeys keys = new MetaKeys(clusterId);
    this.registry = new ChangefeedStore(observer, keys);
    this.history = new MetaHistory(vertx, observer, keys);
  }

  static SimulatedCluster start(int nodes, long seed) {
    SimulatedCluster cluster = new SimulatedCluster(nodes, seed);
    try {
      cluster.history.start();
      for (int i = 0; i < nodes; i++) {
        cluster.startSlot(i);
      }
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  int size() {
    return slots.length;
  }

  FaultRules faults() {
    return faults;
  }

  ChangefeedStore registry() {
    return registry;
  }

  MetaHistory history() {
    return history;
  }

  /** The node in {@code slot}, or null while it is down. */
  synchronized NodeRuntime node(int slot) {
    return slots[slot];
  }

  synchronized List<NodeRuntime> live() {
    List<NodeRuntime> live = new ArrayList<>();
    for (NodeRuntime n : slots) {
      if (n != null) {
        live.add(n);
      }
    }
    return live;
  }

  synchronized List<Integer> downSlots() {
    List<Integer> down = new ArrayList<>();
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] == null) {
        down.add(i);
      }
    }
    return down;
  }

  Optional<NodeRuntime> leader() {
    return ClusterProbe.leader(live());
  }

  /** Kills the node in {@code slot} as {@code kill -9} would; it stays down until {@link #restart}. */
  void crash(int slot) {
    NodeRuntime node;
    synchronized (this) {
      node = slots[slot];
      slots[slot] = null;
    }
    if (node == null) {
      return;
    }
    // Never lifted: the id does not come back (a restart is a new node), and a message to it still in
    // flight (delayed) must not reach what is left of it.
    faults.isolate(node.nodeId());
    join(node.crash());
  }

  /** Starts a new node (a new id) in a slot that is down. */
  void restart(int slot) {
    if (node(slot) != null) {
      throw new IllegalStateException("slot " + slot + " is up");
    }
    startSlot(slot);
  }

  /** Stops etcd and starts it again on the same data: every client's calls fail for a while. */
  void restartMetastore() {
    etcd.restart();
  }

  private void startSlot(int slot) {
    NodeConfig config = new NodeConfig("127.0.0.1", 0, dataRoot.resolve("slot" + slot + "-" + System.nanoTime()),
        List.of(etcd.endpoint()), false, clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1",
        Timings.fromMap(Map.of("session-ttl", SESSION_TTL)));
    NodeRuntime.SharedHost host = new NodeRuntime.SharedHost(vertx,
        v -> MetaStores.etcd(v, List.of(etcd.endpoint())),
        bus -> bus.addOutboundInterceptor(faults));
    NodeRuntime node = join(NodeRuntime.startOn(host, config));
    synchronized (this) {
      slots[slot] = node;
    }
    node.lost().onSuccess(reason -> lost.add(node));
  }

  /**
   * Does what the process of a node whose session was lost does: it stops and exits (ServerCommand exits
   * with code 3), leaving its slot down. Returns the slots that went down this way.
   */
  List<Integer> reapLost() {
    List<Integer> reaped = new ArrayList<>();
    for (NodeRuntime node; (node = lost.poll()) != null; ) {
      int slot = -1;
      synchronized (this) {
        for (int i = 0; i < slots.length; i++) {
          if (slots[i] == node) {
            slots[i] = null;
            slot = i;
          }
        }
      }
      if (slot >= 0) {
        join(node.stop());
        reaped.add(slot);
      }
    }
    return reaped;
  }

  @Override
  public void close() {
    history.stop();
    for (NodeRuntime n : live()) {
      try {
        join(n.stop());
      } catch (RuntimeException e) {
        // the rest still has to stop
      }
    }
    try {
      join(observer.close());
    } catch (RuntimeException e) {
      // closing anyway
    }
    join(vertx.close());
    etcd.close();
  }

  static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }
}
