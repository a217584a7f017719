package io.feedline.coordinator.control;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.time.ManualScheduler;
import io.feedline.coordinator.CoordinatorSettings;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * A {@link CoordinatorControl} driven by hand, with no Vert.x and no store: simulated maintainer managers
 * instead of nodes, an in-memory registry, a counter for the timestamp oracle and a manual clock. Each step
 * delivers the queued messages, collects heartbeats, advances one tick and ticks, then answers every registry
 * call and timestamp request (except those {@link #hold} keeps in flight) until nothing is outstanding; the
 * invariants are checked after every step.
 */
final class ControlHarness {

  static final CoordinatorSettings SETTINGS = new CoordinatorSettings(Duration.ofMillis(100), Duration.ofMillis(500),
      Duration.ofSeconds(15), 1000, 10, Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ofMinutes(30),
      new DrainController.Settings(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(30)));

  final InMemoryRegistry registry = new InMemoryRegistry();
  final ManualScheduler clock = new ManualScheduler(1_000_000);
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  final Map<NodeId, FakeMaintainerManager> nodes = new LinkedHashMap<>();
  final List<Outbound> sent = new ArrayList<>();
  final List<Runnable> invariants = new ArrayList<>();
  /** Messages matching this are lost on their way. */
  Predicate<Outbound> drop = o -> false;
  /** Runs right before each registry call is answered: another writer may change the registry there. */
  Consumer<RegistryOp> beforeCall = op -> {};
  /** Registry calls matching this stay in flight until {@link #release}d. */
  Predicate<RegistryOp> hold = op -> false;
  CoordinatorControl control;
  private final List<Outbound> queue = new ArrayList<>();
  private final List<CoordinatorEffects.RegistryCall> calls = new ArrayList<>();
  private final List<CoordinatorEffects.RegistryCall> held = new ArrayList<>();
  private final List<Long> timestampRequests = new ArrayList<>();
  private final Map<Long, CoordinatorEffects.AdminReply> replies = new HashMap<>();
  private long tso = 1L << 40;
  private long version;
  private long lastRequest;

  ControlHarness(int nodeCount) {
    for (int i = 1; i <= nodeCount; i++) {
      NodeId id = NodeId.of("n" + i);
      nodes.put(id, new FakeMaintainerManager(id));
    }
  }

  /** A new term: a coordinator with a higher election version over what the registry holds now, bootstrapping the current nodes. */
  CoordinatorControl elect() {
    if (control != null) {
      control.stop();
    }
    version += 10;
    control = new CoordinatorControl(NodeId.of("n1"), version, clock, SETTINGS, metrics);
    calls.clear();
    held.clear();
    timestampRequests.clear();
    apply(control.start(Set.copyOf(nodes.keySet())));
    apply(control.onLoaded(registry.loadAll()));
    return control;
  }

  /** Elects and steps until every node answered the bootstrap. */
  void bootstrap() {
    elect();
    stepUntil("bootstrapped", () -> control.bootstrapped(), 5);
  }

  long version() {
    return version;
  }

  FakeMaintainerManager node(String id) {
    return nodes.get(NodeId.of(id));
  }

  void apply(CoordinatorEffects effects) {
    sent.addAll(effects.messages());
    queue.addAll(effects.messages());
    calls.addAll(effects.registryCalls());
    timestampRequests.addAll(effects.timestampRequests());
    effects.replies().forEach(r -> replies.put(r.request(), r));
  }

  /** Answers the timestamp requests and registry calls outstanding (and those their outcomes cause), in order, held ones aside. */
  void settle() {
    while (!timestampRequests.isEmpty() || !calls.isEmpty()) {
      if (!timestampRequests.isEmpty()) {
        long id = timestampRequests.remove(0);
        tso += 1000;
        apply(control.onTimestamp(id, tso, null));
        continue;
      }
      CoordinatorEffects.RegistryCall call = calls.remove(0);
      if (hold.test(call.op())) {
        held.add(call);
      } else {
        perform(call);
      }
    }
  }

  /** The held registry calls go through now. */
  void release() {
    hold = op -> false;
    List<CoordinatorEffects.RegistryCall> released = new ArrayList<>(held);
    held.clear();
    released.forEach(this::perform);
    settle();
  }

  private void perform(CoordinatorEffects.RegistryCall call) {
    beforeCall.accept(call.op());
    apply(control.onRegistryResult(call.id(), registry.perform(call.op())));
  }

  boolean holding() {
    return !held.isEmpty();
  }

  /** One step: deliver, heartbeat, advance one tick, tick, answer the I/O; then check the invariants. */
  void step() {
    List<Outbound> batch = new ArrayList<>(queue);
    queue.clear();
    for (Outbound o : batch) {
      FakeMaintainerManager target = nodes.get(o.to());
      if (target == null || drop.test(o)) {
        continue;
      }
      target.handle(o.payload()).ifPresent(reply -> apply(control.onMessage(target.id, reply)));
    }
    for (FakeMaintainerManager n : nodes.values()) {
      apply(control.onMessage(n.id, n.heartbeat()));
      apply(control.onMessage(n.id, n.nodeHeartbeat()));
    }
    clock.advance(SETTINGS.tick().toMillis());
    apply(control.tick());
    settle();
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

  void deliver(NodeId from, Message payload) {
    apply(control.onMessage(from, payload));
  }

  /** Sends an admin request and returns its id; its answer comes with the I/O it waits for ({@link #reply}). */
  long request(LongFunction<CoordinatorEffects> call) {
    long id = ++lastRequest;
    apply(call.apply(id));
    return id;
  }

  Optional<CoordinatorEffects.AdminReply> reply(long request) {
    return Optional.ofNullable(replies.get(request));
  }

  /** An admin request answered once its I/O is done: the value, or the error as a thrown {@link AdminFailure}. */
  @SuppressWarnings("unchecked")
  <T> T call(LongFunction<CoordinatorEffects> call) {
    long id = request(call);
    settle();
    CoordinatorEffects.AdminReply reply = reply(id).orElseThrow(() -> new AssertionError("request " + id + " not answered"));
    if (reply.error() != null) {
      throw new AdminFailure(reply.error());
    }
    return (T) reply.value();
  }

  /** The error an admin request was answered with. */
  Throwable failure(LongFunction<CoordinatorEffects> call) {
    try {
      call(call);
    } catch (AdminFailure e) {
      return e.getCause();
    }
    throw new AssertionError("the request succeeded");
  }

  static final class AdminFailure extends RuntimeException {
    AdminFailure(Throwable cause) {
      super(cause);
    }
  }

  void killNode(String id) {
    NodeId node = NodeId.of(id);
    nodes.remove(node);
    apply(control.onNodeLeft(node));
  }

  FakeMaintainerManager addNode(String id) {
    NodeId node = NodeId.of(id);
    FakeMaintainerManager m = new FakeMaintainerManager(node);
    nodes.put(node, m);
    apply(control.onNodeJoined(node));
    return m;
  }

  ChangefeedRecord create(String id) {
    return call(r -> control.create(r, ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1").setSinkUri("blackhole://").build()));
  }

  ChangefeedRecord persisted(String id) {
    return registry.load(ChangefeedId.of(id)).orElseThrow();
  }

  Map<ChangefeedId, NodeId> maintainers() {
    return control.maintainers();
  }

  /** The coordinator's in-memory record of {@code cf}. */
  ChangefeedRecord memory(String cf) {
    return control.query(ChangefeedId.of(cf)).orElseThrow();
  }

  /** Nodes running a maintainer for {@code cf}, with epochs. */
  Map<NodeId, Long> running(String cf) {
    Map<NodeId, Long> out = new LinkedHashMap<>();
    nodes.values().forEach(n -> {
      FakeMaintainerManager.Running r = n.maintainers.get(ChangefeedId.of(cf));
      if (r != null) {
        out.put(n.id, r.epoch());
      }
    });
    return out;
  }

  /** One maintainer runs {@code cf}, at the persisted epoch, adopted by the coordinator, whose memory has that epoch. */
  boolean settled(String cf) {
    Map<NodeId, Long> r = running(cf);
    ChangefeedRecord p = persisted(cf);
    return r.size() == 1 && r.values().iterator().next() == p.epoch()
        && r.keySet().iterator().next().equals(maintainers().get(ChangefeedId.of(cf)))
        && memory(cf).epoch() == p.epoch();
  }
}
