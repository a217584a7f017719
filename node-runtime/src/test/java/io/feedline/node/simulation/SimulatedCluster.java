package io.feedline.node.simulation;

import io.feedline.common.config.Timings;
import io.feedline.common.messaging.FaultRules;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.node.cluster.InJvmCluster;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * An {@link InJvmCluster} on a real etcd, or on one embedded store shared by every node
 * ({@link SharedEmbeddedStore}), whose nodes talk through one seeded {@link FaultRules} on every
 * control bus's outbound side: drops, delays, duplicates, reordering and partitions between node pairs. A
 * crash cuts the node off both ways before it dies, so nothing it still sends on the way down arrives. An
 * observer client records the registry's history for the invariants ({@link MetaHistory}).
 */
final class SimulatedCluster implements AutoCloseable {

  /** A short session TTL keeps failovers (and so a seed's run) short; it is the minimum a node accepts. */
  static final Duration SESSION_TTL = Timings.MIN_SESSION_TTL;
  /** How long the embedded store stays down in a restart: about what an etcd restart takes here. */
  private static final Duration EMBEDDED_STORE_DOWN = Duration.ofSeconds(1);

  /** The metastore the nodes share. */
  enum Store {
    ETCD, EMBEDDED;

    /** {@code etcd} or {@code embedded}, as {@code -Dfeedline.sim.store} takes it. */
    static Store parse(String name) {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    }

    String flag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Null on the embedded store. */
  private final EtcdServer etcd;
  /** Null on etcd. */
  private final SharedEmbeddedStore embedded;
  private final Vertx vertx;
  private final FaultRules faults;
  private final InJvmCluster nodes;
  private final MetaStore observer;
  private final ChangefeedStore registry;
  private final MetaHistory history;
  private final Path dataRoot;

  private SimulatedCluster(int size, long seed, Store store) {
    this.vertx = Vertx.vertx();
    this.faults = new FaultRules(seed);
    String clusterId = "sim-" + Long.toUnsignedString(seed, 36) + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
    this.dataRoot = Path.of("target", "simulation", clusterId).toAbsolutePath();
    this.etcd = store == Store.ETCD ? EtcdServer.start() : null;
    this.embedded = store == Store.EMBEDDED ? SharedEmbeddedStore.open(vertx, dataRoot.resolve("metastore")) : null;
    Function<Vertx, MetaStore> client = etcd != null ? v -> MetaStores.etcd(v, List.of(etcd.endpoint())) : v -> embedded.client();
    this.nodes = new InJvmCluster(size, vertx, client, bus -> bus.addOutboundInterceptor(faults), clusterId, dataRoot,
        Timings.fromMap(Map.of("session-ttl", SESSION_TTL)));
    this.observer = client.apply(vertx);
    MetaKeys keys = new MetaKeys(clusterId);
    this.registry = new ChangefeedStore(observer, keys);
    this.history = new MetaHistory(vertx, observer, keys);
  }

  static SimulatedCluster start(int size, long seed, Store store) {
    SimulatedCluster cluster = new SimulatedCluster(size, seed, store);
    try {
      cluster.history.start();
      cluster.nodes.startAll();
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  InJvmCluster nodes() {
    return nodes;
  }

  /** Where the file sink of {@code changefeed} writes: absolute, under target/. */
  Path sinkDir(String changefeed) {
    return dataRoot.resolve("sink-" + changefeed);
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

  /**
   * Kills the node in {@code slot}. Its isolation is never lifted: its id does not come back (a restart is
   * a new node), and a message to it still in flight (delayed) must not reach what is left of it.
   */
  void crash(int slot) {
    nodes.crash(slot, node -> faults.isolate(node.nodeId()));
  }

  /**
   * Stops the metastore and starts it again on the same data: every client's calls fail for a while. etcd
   * keeps its leases (clients resume their keep-alives); the embedded store's nodes lose their sessions.
   */
  void restartMetastore() {
    if (etcd != null) {
      etcd.restart();
    } else {
      embedded.restart(EMBEDDED_STORE_DOWN);
    }
  }

  @Override
  public void close() {
    history.stop();
    nodes.close();
    try {
      InJvmCluster.join(observer.close());
    } catch (RuntimeException e) {
      // closing anyway
    }
    if (embedded != null) {
      embedded.close();
    }
    InJvmCluster.join(vertx.close());
    if (etcd != null) {
      etcd.close();
    }
  }
}
