package io.feedline.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.span.TableSpans;
import io.feedline.common.metastore.ForwardingMetaStore;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.node.cluster.InJvmCluster;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 3-node in-JVM cluster the control-plane benchmarks measure: one Vert.x, nodes on a real etcd (one
 * client each) or on one embedded store, datagen sources and blackhole sinks so that only the control
 * plane is measured. Clustered, each node has a Vert.x of its own joined over Hazelcast on loopback, so
 * every control message is serialized and crosses a socket as between processes (that needs etcd).
 */
final class BenchCluster implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  private final Path dataRoot;
  private final MetaStore embedded;
  private final InJvmCluster nodes;
  private final String etcd;
  private final boolean clustered;

  BenchCluster(int size, String etcd, Duration sessionTtl) throws IOException {
    this(size, etcd, sessionTtl, false);
  }

  BenchCluster(int size, String etcd, Duration sessionTtl, boolean clustered) throws IOException {
    quietNodeLogs();
    this.etcd = etcd;
    this.clustered = clustered;
    this.dataRoot = Files.createTempDirectory("feedline-bench");
    String clusterId = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    Timings timings = Timings.fromMap(Map.of("session-ttl", sessionTtl));
    if (clustered) {
      embedded = null;
      nodes = InJvmCluster.clustered(size, etcd, clusterId, dataRoot, timings);
    } else if (etcd != null) {
      embedded = null;
      nodes = new InJvmCluster(size, vertx, v -> MetaStores.etcd(v, List.of(etcd)), bus -> { }, clusterId, dataRoot, timings);
    } else {
      embedded = InJvmCluster.join(MetaStores.embedded(vertx, dataRoot.resolve("meta")));
      nodes = new InJvmCluster(size, vertx, v -> new SharedStore(embedded), bus -> { }, clusterId, dataRoot, timings);
    }
    nodes.startAll();
  }

  InJvmCluster nodes() {
    return nodes;
  }

  /** Where the nodes keep their metadata and how they talk, for the report. */
  static String describe(String etcd, boolean clustered) {
    return (etcd != null ? "etcd " + etcd : "embedded store") + (clustered ? ", clustered (a Vert.x per node, Hazelcast on loopback)"
        : ", one Vert.x (messages between nodes are not serialized)");
  }

  NodeRuntime awaitLeader(Duration within) {
    awaitTrue(within, "a coordinator", () -> nodes.leader().isPresent());
    return nodes.leader().orElseThrow();
  }

  /**
   * What the changefeeds' datagen upstream produces while the control plane is measured. A live upstream
   * wakes every dispatcher once per tick (one tick per second) and writes about half a row per table per
   * second: at a million spans that is data-plane work (a million wake-ups a second) that two cores cannot
   * do besides anything else, so the control-plane figures use an upstream that produced everything before
   * the changefeeds start: each dispatcher subscribes, turns Working and then waits at no cost.
   */
  enum Upstream {
    IDLE("&rate=1&until=1"),
    LIVE("&rate=1");

    private final String params;

    Upstream(String params) {
      this.params = params;
    }

    String sourceUri(int tables, int seed) {
      return "datagen://?tables=" + tables + "&seed=" + seed + params;
    }

    String describe() {
      return this == IDLE ? "idle (datagen until=1: nothing after the start ts)" : "live (datagen rate=1: one tick per second)";
    }
  }

  /**
   * Creates {@code changefeeds} changefeeds of {@code tables} datagen tables each, into blackhole sinks, and
   * returns how many dispatchers they need: one per table that exists at its changefeed's start ts (datagen
   * drops and re-creates every table periodically, so about a tenth are dropped at any moment) plus the
   * table trigger. With a live upstream, later CREATE/DROP TABLEs move this a little.
   */
  long create(int changefeeds, int tables, Upstream upstream) {
    NodeRuntime leader = awaitLeader(Duration.ofMinutes(1));
    long spans = 0;
    for (int i = 0; i < changefeeds; i++) {
      ChangefeedInfo info = ChangefeedInfo.newBuilder().setId(String.format("bench-%05d", i))
          .setSourceUri(upstream.sourceUri(tables, i)).setSinkUri("blackhole://").build();
      ChangefeedRecord created = ClusterProbe.onCoordinator(leader, c -> c.create(info));
      DatagenModel model = new DatagenModel(i, tables, TickTimeline.forRate(1));
      long tick = model.timeline().lastTickAtOrBelow(created.info().getStartTs());
      spans += 1 + LongStream.rangeClosed(1, tables).filter(t -> model.existsAt(t, tick)).count();
    }
    return spans;
  }

  /**
   * Creates the changefeeds ({@link #create}) and waits until every span's dispatcher is Working and every
   * maintainer has converged; returns how many dispatchers that is.
   */
  long createAllWorking(int changefeeds, int tables, Upstream upstream, Duration within) {
    long expected = create(changefeeds, tables, upstream);
    awaitAllWorking(expected, within);
    return expected;
  }

  /** Waits until {@code expected} dispatchers are Working and every maintainer runs once, where the coordinator says. */
  void awaitAllWorking(long expected, Duration within) {
    awaitTrue(within, expected + " working dispatchers, maintainers converged", () -> workingDispatchers() >= expected && maintainersConverged());
  }

  /**
   * Checks span by span that every span of the changefeeds has exactly one Working dispatcher on the live
   * nodes (a summed count would let a span held twice hide one held by nobody) and that {@code without},
   * when given, holds none; fails the benchmark otherwise. With an idle upstream the {@code expected} spans
   * are exact; a live one may have created a few more since.
   */
  void checkExactlyOneWorkingPerSpan(long expected, NodeRuntime without) {
    Map<SpanOf, List<io.feedline.common.id.NodeId>> where = new HashMap<>();
    for (ClusterProbe.WorkingDispatcher d : ClusterProbe.workingDispatchers(nodes.live())) {
      where.computeIfAbsent(new SpanOf(d.changefeed(), d.dispatcher().getSpan()), k -> new ArrayList<>(1)).add(d.node());
    }
    List<String> twice = where.entrySet().stream().filter(e -> e.getValue().size() > 1).limit(5)
        .map(e -> e.getKey() + " on " + e.getValue()).toList();
    if (!twice.isEmpty()) {
      throw new IllegalStateException("spans with more than one Working dispatcher: " + twice);
    }
    if (where.size() < expected) {
      throw new IllegalStateException(where.size() + " spans have a Working dispatcher, " + expected + " expected");
    }
    if (without != null) {
      List<SpanOf> left = where.entrySet().stream().filter(e -> e.getValue().contains(without.nodeId())).map(Map.Entry::getKey).limit(5).toList();
      if (!left.isEmpty()) {
        throw new IllegalStateException("spans still Working on the drained node " + without.nodeId() + ": " + left);
      }
    }
  }

  /** A span of a changefeed, as the exact check counts them. */
  private record SpanOf(ChangefeedId changefeed, TableSpan span) {
    @Override
    public String toString() {
      return changefeed + " " + TableSpans.format(span);
    }
  }

  long workingDispatchers() {
    return nodes.live().stream().mapToLong(ClusterProbe::workingDispatcherCount).sum();
  }

  long workingDispatchersExcept(NodeRuntime node) {
    return nodes.live().stream().filter(n -> n != node).mapToLong(ClusterProbe::workingDispatcherCount).sum();
  }

  /** Whether every changefeed runs one maintainer, at its persisted epoch, on a live node. */
  boolean maintainersConverged() {
    Optional<NodeRuntime> leader = nodes.leader();
    if (leader.isEmpty()) {
      return false;
    }
    var records = ClusterProbe.onCoordinator(leader.get(), c -> Future.succeededFuture(c.list()));
    return ClusterProbe.maintainerDivergence(records, nodes.live(), leader.get()).isEmpty();
  }

  Map<ChangefeedId, io.feedline.common.id.NodeId> maintainers() {
    return ClusterProbe.onCoordinator(awaitLeader(Duration.ofMinutes(1)), c -> Future.succeededFuture(c.maintainers()));
  }

  /** Polls {@code condition} every 50 ms; fails the benchmark if it does not hold within {@code within}. */
  static void awaitTrue(Duration within, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not reached within " + within + ": " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /**
   * The nodes' INFO lines (several per changefeed and node) would bury the table a benchmark prints and
   * cost time of their own: benchmarks log WARN and above unless FEEDLINE_LOG_LEVEL asks for more.
   */
  private static void quietNodeLogs() {
    if (System.getenv("FEEDLINE_LOG_LEVEL") == null && LoggerFactory.getILoggerFactory() instanceof LoggerContext logs) {
      logs.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
    }
  }

  /** Heap in use after a full collection, in MiB. */
  static long heapAfterGcMiB() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
  }

  @Override
  public void close() throws IOException {
    nodes.close();
    if (embedded != null) {
      InJvmCluster.join(embedded.close());
    }
    InJvmCluster.join(vertx.close());
    try (var files = Files.walk(dataRoot)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /**
   * One embedded store shared by every node of the cluster: each node "closes its client" when it stops,
   * which must not close the store under the others; the benchmark closes it at the end.
   */
  private static final class SharedStore extends ForwardingMetaStore {
    SharedStore(MetaStore store) {
      super(store);
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
