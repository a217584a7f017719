package io.feedline.node.cluster;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.metastore.MetaStore;
import io.feedline.node.NodeRuntime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * N nodes in one JVM on one shared Vert.x (see {@link NodeRuntime.SharedHost}), each in a numbered slot,
 * for the simulation, multi-node tests and the benchmarks. A crashed slot stays down until restarted, and
 * a restarted slot is a new node with a new id, as a restarted process is. Called from one driving thread
 * (a test's or a benchmark's main thread): every method waits for what it starts.
 */
public final class InJvmCluster implements AutoCloseable {

  private static final long STEP_TIMEOUT_SECONDS = 60;

  /** Starts one node of the cluster from its configuration. */
  private final Function<NodeConfig, Future<NodeRuntime>> starter;
  /** The etcd endpoints of clustered nodes (each has its own Vert.x and etcd client); empty on a shared host. */
  private final List<String> etcd;
  private final String clusterId;
  private final Path dataRoot;
  private final Timings timings;
  private final NodeRuntime[] slots;
  /** Nodes whose metastore session was lost: their process would leave and join again as a new node (ServerCommand). */
  private final Queue<NodeRuntime> lost = new ConcurrentLinkedQueue<>();

  /**
   * @param storeClient a metastore client for one node (each node gets its own, as separate processes do)
   * @param busSetup called with each node's control bus before its roles use it (fault interceptors)
   */
  public InJvmCluster(int nodes, Vertx vertx, Function<Vertx, MetaStore> storeClient, Consumer<ControlBus> busSetup,
      String clusterId, Path dataRoot, Timings timings) {
    this(nodes, config -> NodeRuntime.startOn(new NodeRuntime.SharedHost(vertx, storeClient, busSetup), config), List.of(), clusterId,
        dataRoot, timings);
  }

  private InJvmCluster(int nodes, Function<NodeConfig, Future<NodeRuntime>> starter, List<String> etcd, String clusterId, Path dataRoot,
      Timings timings) {
    this.starter = starter;
    this.etcd = etcd;
    this.clusterId = clusterId;
    this.dataRoot = dataRoot;
    this.timings = timings;
    this.slots = new NodeRuntime[nodes];
  }

  /**
   * Nodes as separate processes would run them, in one JVM: each its own Vert.x, clustered over Hazelcast
   * ({@code conf/hazelcast.xml}, loopback), so every control message is serialized and crosses a socket,
   * and its own client of the etcd at {@code etcd}.
   */
  public static InJvmCluster clustered(int nodes, String etcd, String clusterId, Path dataRoot, Timings timings) {
    return new InJvmCluster(nodes, NodeRuntime::start, List.of(etcd), clusterId, dataRoot, timings);
  }

  /** Starts every slot, one after the other. */
  public InJvmCluster startAll() {
    for (int i = 0; i < slots.length; i++) {
      restart(i);
    }
    return this;
  }

  public int size() {
    return slots.length;
  }

  public String clusterId() {
    return clusterId;
  }

  /** The node in {@code slot}, or null while it is down. */
  public synchronized NodeRuntime node(int slot) {
    return slots[slot];
  }

  public synchronized List<NodeRuntime> live() {
    List<NodeRuntime> live = new ArrayList<>();
    for (NodeRuntime n : slots) {
      if (n != null) {
        live.add(n);
      }
    }
    return live;
  }

  public synchronized int slotOf(NodeRuntime node) {
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] == node) {
        return i;
      }
    }
    throw new IllegalArgumentException(node.nodeId() + " holds no slot");
  }

  /** The node whose coordinator leads and has bootstrapped, if any. */
  public Optional<NodeRuntime> leader() {
    return ClusterProbe.leader(live());
  }

  /**
   * Kills the node in {@code slot} as {@code kill -9} would: its metastore client goes without revoking the
   * session, so the others learn of the death only when the lease expires. {@code beforeCrash} runs first,
   * with the node still in place (e.g. to cut its bus so its stop hooks reach no one).
   */
  public void crash(int slot, Consumer<NodeRuntime> beforeCrash) {
    NodeRuntime node;
    synchronized (this) {
      node = slots[slot];
      slots[slot] = null;
    }
    if (node != null) {
      beforeCrash.accept(node);
      join(node.crash());
    }
  }

  /** Starts a new node (a new id) in {@code slot}, which must be down. */
  public void restart(int slot) {
    if (node(slot) != null) {
      throw new IllegalStateException("slot " + slot + " is up");
    }
    NodeConfig config = new NodeConfig("127.0.0.1", 0, dataRoot.resolve("slot" + slot + "-" + System.nanoTime()),
        etcd, !etcd.isEmpty(), clusterId, Path.of("conf", "hazelcast.xml"), "127.0.0.1", timings);
    NodeRuntime node = join(starter.apply(config));
    synchronized (this) {
      slots[slot] = node;
    }
    node.lost().onSuccess(reason -> lost.add(node));
  }

  /**
   * Does the first half of what the server of a node whose session was lost does: the node stops, leaving
   * its slot down until the caller starts a new node there (the server rejoins in-process). Returns the
   * slots that went down this way since the last call.
   */
  public List<Integer> reapLost() {
    List<Integer> reaped = new ArrayList<>();
    for (NodeRuntime node; (node = lost.poll()) != null; ) {
      int slot;
      synchronized (this) {
        slot = live().contains(node) ? slotOf(node) : -1;
        if (slot >= 0) {
          slots[slot] = null;
        }
      }
      if (slot >= 0) {
        join(node.stop());
        reaped.add(slot);
      }
    }
    return reaped;
  }

  /** Stops every live node (cleanly); the Vert.x and the metastore belong to the caller. */
  @Override
  public void close() {
    for (NodeRuntime n : live()) {
      try {
        join(n.stop());
      } catch (RuntimeException e) {
        // the others still have to stop
      }
    }
  }

  public static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().orTimeout(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS).join();
  }
}
