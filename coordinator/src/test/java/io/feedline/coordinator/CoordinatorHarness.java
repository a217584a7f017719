package io.feedline.coordinator;

import static io.feedline.common.testing.Await.await;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.InterceptingMetaStore;
import io.feedline.common.time.ManualScheduler;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A coordinator on a real embedded store, with simulated maintainer managers instead of nodes, driven
 * step by step on one Vert.x context: each step delivers queued messages, collects heartbeats, advances
 * the manual clock by one tick and ticks. Messages can be dropped by a predicate; invariants are checked
 * after every step.
 */
final class CoordinatorHarness implements AutoCloseable {

  static final CoordinatorSettings SETTINGS = new CoordinatorSettings(Duration.ofMillis(100), Duration.ofMillis(500),
      Duration.ofSeconds(15), 1000, 10, Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ofMinutes(30),
      new DrainController.Settings(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30)));

  final Vertx vertx = Vertx.vertx();
  final Context context = vertx.getOrCreateContext();
  final InterceptingMetaStore store;
  final MetaKeys keys = new MetaKeys("test");
  final ChangefeedStore registry;
  final ManualScheduler clock = new ManualScheduler(1_000_000);
  final AtomicLong tso = new AtomicLong(1L << 40);
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  final Map<NodeId, FakeMaintainerManager> nodes = new LinkedHashMap<>();
  final List<Outbound> sent = new ArrayList<>();
  private final List<Outbound> queue = new ArrayList<>();
  final List<Runnable> invariants = new ArrayList<>();
  Predicate<Outbound> drop = o -> false;
  Coordinator coordinator;
  private long version;

  CoordinatorHarness(int nodeCount) {
    store = new InterceptingMetaStore(await(MetaStores.embedded(vertx, Path.of("target", "coordinator-harness", UUID.randomUUID().toString()))));
    registry = new ChangefeedStore(store, keys);
    for (int i = 1; i <= nodeCount; i++) {
      NodeId id = NodeId.of("n" + i);
      nodes.put(id, new FakeMaintainerManager(id));
    }
  }

  /** A new term: a coordinator with a higher election version, bootstrapping over the current nodes. */
  Coordinator elect() {
    version += 10;
    Supplier<Future<Long>> timestamps = () -> Future.succeededFuture(tso.addAndGet(1000));
    coordinator = new Coordinator(NodeId.of("n1"), version, registry, timestamps, o -> {
      sent.add(o);
      queue.add(o);
    }, clock, SETTINGS, metrics);
    Set<NodeId> live = Set.copyOf(nodes.keySet());
    onContext(() -> coordinator.start(live));
    return coordinator;
  }

  long version() {
    return version;
  }

  FakeMaintainerManager node(String id) {
    return nodes.get(NodeId.of(id));
  }

  /** Runs {@code action} on the coordinator's context and waits for the future it returns. */
  <T> T onContext(Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return await(done.future());
  }

  void run(Runnable action) {
    onContext(() -> {
      action.run();
      return Future.succeededFuture();
    });
  }

  /** One step: deliver, heartbeat, advance one tick, tick, let the store answer; then check invariants. */
  void step() {
    run(() -> {
      List<Outbound> batch = new ArrayList<>(queue);
      queue.clear();
      for (Outbound o : batch) {
        FakeMaintainerManager target = nodes.get(o.to());
        if (target == null || drop.test(o)) {
          continue;
        }
        target.handle(o.payload()).ifPresent(reply -> coordinator.onInbound(inbound(target.id, reply)));
      }
      for (FakeMaintainerManager n : nodes.values()) {
        coordinator.onInbound(inbound(n.id, n.heartbeat()));
        coordinator.onInbound(inbound(n.id, n.nodeHeartbeat()));
      }
      clock.advance(SETTINGS.tick().toMillis());
      coordinator.tick();
    });
    // Store writes complete on the context after their I/O; a few round trips let them land.
    for (int i = 0; i < 3; i++) {
      onContext(() -> store.delegate().getPrefix(keys.root()).mapEmpty());
    }
    invariants.forEach(Runnable::run);
  }

  void stepUntil(String what, BooleanSupplier condition, int maxSteps) {
    for (int i = 0; i < maxSteps; i++) {
      step();
      if (condition.getAsBoolean()) {
        return;
      }
    }
    throw new AssertionError("not within " + maxSteps + " steps: " + what + "\nmaintainers=" + describe());
  }

  String describe() {
    StringBuilder sb = new StringBuilder();
    nodes.values().forEach(n -> sb.append(n.id).append(n.maintainers).append(' '));
    return sb.toString();
  }

  static Inbound inbound(NodeId from, Message payload) {
    return new Inbound(from, payload.getDescriptorForType().getName(), payload);
  }

  void killNode(String id) {
    NodeId node = NodeId.of(id);
    nodes.remove(node);
    run(() -> coordinator.onNodeLeft(node));
  }

  FakeMaintainerManager addNode(String id) {
    NodeId node = NodeId.of(id);
    FakeMaintainerManager m = new FakeMaintainerManager(node);
    nodes.put(node, m);
    run(() -> coordinator.onNodeJoined(node));
    return m;
  }

  ChangefeedRecord create(String id) {
    return onContext(() -> coordinator.create(ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1")
        .setSinkUri("blackhole://").build()));
  }

  ChangefeedRecord persisted(String id) {
    return await(registry.load(ChangefeedId.of(id))).orElseThrow();
  }

  /** The coordinator's adopted maintainers, read on its context. */
  Map<ChangefeedId, NodeId> maintainers() {
    return onContext(() -> Future.succeededFuture(coordinator.maintainers()));
  }

  /** The coordinator's in-memory record of {@code cf}. */
  ChangefeedRecord memory(String cf) {
    return onContext(() -> Future.succeededFuture(coordinator.query(ChangefeedId.of(cf)).orElseThrow()));
  }

  /** Nodes running a maintainer for {@code cf}, with epochs. */
  Map<NodeId, Long> running(String cf) {
    Map<NodeId, Long> out = new LinkedHashMap<>();
    nodes.values().forEach(n -> {
      var r = n.maintainers.get(ChangefeedId.of(cf));
      if (r != null) {
        out.put(n.id, r.epoch());
      }
    });
    return out;
  }

  boolean settled(String cf) {
    Map<NodeId, Long> r = running(cf);
    ChangefeedRecord p = persisted(cf);
    return r.size() == 1 && r.values().iterator().next() == p.epoch()
        && r.keySet().iterator().next().equals(maintainers().get(ChangefeedId.of(cf)))
        && memory(cf).epoch() == p.epoch();
  }

  @Override
  public void close() {
    await(store.close());
    await(vertx.close());
  }
}
