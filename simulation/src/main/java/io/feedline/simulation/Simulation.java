package io.feedline.simulation;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.sim.SimulatedMetaStore;
import io.feedline.common.span.TableSpans;
import io.feedline.common.time.ManualScheduler;
import io.feedline.common.time.Scheduler;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.ConsistencyCheck;
import io.feedline.dispatcher.check.DatagenReplay;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.maintainer.changefeed.ChangefeedMaintainer;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.TableSpan;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * One seed of the deterministic simulation: {@link #NODES} nodes on one thread and one clock, a plan of workload and
 * faults drawn from the seed ({@link Plan}), message faults throughout the chaos window, then every fault healed and the
 * cluster given {@link #CONVERGE_WITHIN} of simulated time to converge. The invariants run after every step; the first
 * violation ends the run. Nothing here reads a wall clock or a thread: the same seed (and the same number of plan
 * actions) replays the identical history, which {@link SeedResult#historyHash()} fingerprints.
 */
final class Simulation implements SimNode.World {

  static final int NODES = 3;
  static final long CHAOS_MILLIS = 30_000;
  static final long CONVERGE_WITHIN = 60_000;
  /** The simulated clock starts at a realistic wall-clock time: TSO timestamps are built from it. */
  private static final long START_MILLIS = 1_790_000_000_000L;
  private static final SimNetwork.Faults MESSAGE_FAULTS = new SimNetwork.Faults(0.03, 0.03, 0.05, 3_000);

  private final long seed;
  private final Plan plan;
  private final ManualScheduler clock = new ManualScheduler(START_MILLIS);
  private final Clock wallClock = clock.clock();
  private final Random random;
  private final Stats stats = new Stats();
  private final History history;
  private final MetaKeys keys = new MetaKeys("sim");
  private final SimulatedMetaStore store;
  private final SimNetwork network;
  private final Map<String, SimNode> nodes = new LinkedHashMap<>();
  private final Map<String, Integer> incarnations = new HashMap<>();
  private final Map<ChangefeedId, Downstream> downstreams = new LinkedHashMap<>();
  private final Invariants invariants;
  private final List<String> violations = new ArrayList<>();
  private int created;
  /** Every changefeed the workload asked to create, in order: the ones whose fences the invariants follow. */
  private final List<ChangefeedId> createdIds = new ArrayList<>();
  private boolean healed;

  /** @param trace where to print every event of the history as it happens, or null */
  Simulation(long seed, int actionLimit, Consumer<String> trace) {
    this.seed = seed;
    this.history = new History(trace);
    this.plan = Plan.draw(seed, CHAOS_MILLIS, actionLimit);
    this.random = new Random(seed ^ 0x5eed_0f_5eedL);
    this.store = new SimulatedMetaStore(clock, () -> 1 + random.nextInt(3));
    this.invariants = new Invariants(keys, downstreams::get, this::violation);
    this.network = new SimNetwork(clock, random, stats, history, invariants::onDelivered);
    store.onCommit(events -> {
      events.forEach(e -> history.record(elapsed(), "commit " + e.type() + " " + e.kv().key() + " rev " + e.kv().modRevision()));
      invariants.onCommit(events);
    });
  }

  /** Runs the seed to its end: the first violation, convergence, or the end of the convergence window. */
  SeedResult run() {
    for (int i = 1; i <= NODES; i++) {
      startSlot("n" + i);
    }
    network.faults(MESSAGE_FAULTS);
    for (Plan.Action action : plan.actions()) {
      clock.schedule(action.atMillis(), () -> perform(action));
    }
    long healAt = START_MILLIS + CHAOS_MILLIS;
    clock.schedule(CHAOS_MILLIS, this::heal);
    // What the roles log as an error is a bug they noticed: a violation of this seed.
    Simulator.ERRORS.set(error -> violation("ERROR_LOGGED: " + error));
    long convergedAt;
    try {
      convergedAt = steps(healAt);
    } finally {
      Simulator.ERRORS.remove();
    }
    stats.maintainerHandoffs = invariants.maintainerHandoffs;
    stats.spanHandoffs = downstreams.values().stream().mapToLong(d -> d.handoffs).sum();
    stats.ddls = downstreams.values().stream().mapToLong(d -> d.ddls).sum();
    if (violations.isEmpty() && (stats.faultCount() == 0 || stats.maintainerHandoffs + stats.spanHandoffs == 0 || writes() == 0)) {
      violation("EXERCISED_NOTHING: faults " + stats.faults + ", ownership changes " + (stats.maintainerHandoffs + stats.spanHandoffs)
          + ", writes " + writes());
    }
    return new SeedResult(seed, plan.actions().size(), history.hash(), List.copyOf(violations), stats, writes(), convergedAt,
        clock.nowMillis() - START_MILLIS, violations.isEmpty() ? List.of() : history.tail());
  }

  /**
   * Runs one task at a time, the invariants after each, until a violation, convergence (checked every second after the
   * heal) or the end of the convergence window. A task that throws is a violation: nothing a role does on its own
   * timers or on a message may throw out of it. Returns how long after the heal every changefeed had caught up (0: never).
   */
  private long steps(long healAt) {
    long deadline = healAt + CONVERGE_WITHIN;
    long nextCheck = healAt + 1_000;
    while (violations.isEmpty()) {
      boolean ran;
      try {
        ran = clock.runNext(Math.min(deadline, nextCheck));
      } catch (RuntimeException e) {
        violation("TASK_THREW: " + e);
        break;
      }
      if (ran) {
        stats.steps++;
        invariants.afterStep(nodes.values(), createdIds);
        continue;
      }
      if (clock.nowMillis() >= deadline) {
        violation("NOT_CONVERGED: " + CONVERGE_WITHIN / 1000 + " s after the faults stopped: " + lag(healAt));
        break;
      }
      if (clock.nowMillis() >= nextCheck) {
        nextCheck += 1_000;
        if (healed && converged(healAt)) {
          checkContent();
          return clock.nowMillis() - healAt;
        }
      }
    }
    return 0;
  }

  /** Events the downstream skipped only because a TRUNCATE or DROP had wiped them (after {@link #run}). */
  long clearedSkips() {
    return downstreams.values().stream().mapToLong(d -> d.clearedSkips).sum();
  }

  private long writes() {
    return downstreams.values().stream().mapToLong(d -> d.accepted).sum();
  }

  // ---- the world the nodes live in ----------------------------------------------------------------------------

  @Override
  public Scheduler clock() {
    return clock;
  }

  @Override
  public Clock wallClock() {
    return wallClock;
  }

  @Override
  public SimNetwork network() {
    return network;
  }

  @Override
  public SimulatedMetaStore store() {
    return store;
  }

  @Override
  public MetaKeys keys() {
    return keys;
  }

  @Override
  public Downstream downstream(ChangefeedId changefeed) {
    return downstreams.computeIfAbsent(changefeed, cf -> {
      ChangefeedInfo info = store.peek(keys.changefeedInfo(cf)).map(kv -> {
        try {
          return ChangefeedInfo.parseFrom(kv.value());
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }).orElseThrow(() -> new IllegalStateException("a sink opened for " + cf + ", which has no info record"));
      return new Downstream(cf, info.getSourceUri(), info.getStartTs());
    });
  }

  @Override
  public RecordingSink.SinkFault sinkFault() {
    long latency = 1 + random.nextInt(5);
    if (healed) {
      return new RecordingSink.SinkFault(latency, false, false);
    }
    double x = random.nextDouble();
    if (x < 0.01) {
      stats.count("sink-refused");
      return new RecordingSink.SinkFault(latency, true, false);
    }
    if (x < 0.02) {
      stats.count("sink-answer-lost");
      return new RecordingSink.SinkFault(latency, false, true);
    }
    if (x < 0.03) {
      stats.count("sink-stall");
      return new RecordingSink.SinkFault(500 + random.nextInt(3_000), false, false);
    }
    return new RecordingSink.SinkFault(latency, false, false);
  }

  @Override
  public long maintainerSeed() {
    return random.nextLong();
  }

  @Override
  public void violation(String violation) {
    if (violations.size() < 10) {
      violations.add(String.format("at %d ms: %s", elapsed(), violation));
    }
  }

  @Override
  public void record(String event) {
    history.record(elapsed(), event);
  }

  @Override
  public void restart(SimNode node, String why) {
    stats.count(why);
    history.record(elapsed(), why + " " + node.id);
    clock.schedule(500, () -> {
      if (nodes.get(node.slot) == node) {
        restartSlot(node.slot);
      }
    });
  }

  private long elapsed() {
    return clock.nowMillis() - START_MILLIS;
  }

  // ---- nodes --------------------------------------------------------------------------------------------------

  private void startSlot(String slot) {
    int incarnation = incarnations.merge(slot, 1, Integer::sum);
    SimNode node = new SimNode(slot, incarnation, this);
    nodes.put(slot, node);
    history.record(elapsed(), "start " + node.id);
    node.start();
  }

  private void crashSlot(String slot) {
    SimNode node = nodes.get(slot);
    if (node != null && node.alive()) {
      history.record(elapsed(), "crash " + node.id);
      node.crash();
    }
  }

  private void restartSlot(String slot) {
    crashSlot(slot);
    startSlot(slot);
  }

  private Optional<Coordinator> leader() {
    return nodes.values().stream().map(SimNode::coordinator).flatMap(Optional::stream).findFirst();
  }

  // ---- the plan -----------------------------------------------------------------------------------------------

  private void perform(Plan.Action action) {
    if (healed) {
      return;
    }
    history.record(elapsed(), "action " + action);
    List<String> slots = List.copyOf(nodes.keySet());
    String slot = slots.get(Math.floorMod(action.pick(), slots.size()));
    SimNode node = nodes.get(slot);
    switch (action.kind()) {
      case CREATE -> create(action);
      case PAUSE -> withSpareChangefeed(action, (c, cf) -> c.pause(cf).onSuccess(r -> stats.action("pause")));
      case RESUME -> withChangefeed(action, (c, cf) -> c.resume(cf, 0).onSuccess(r -> stats.action("resume")));
      case REMOVE -> withSpareChangefeed(action, (c, cf) -> c.remove(cf).onSuccess(r -> stats.action("remove")));
      case MOVE_MAINTAINER -> withChangefeed(action, (c, cf) -> c.moveMaintainer(cf, node.id).onSuccess(r -> stats.action("move-maintainer")));
      case DRAIN -> leader().ifPresent(c -> c.drain(node.id).onSuccess(r -> {
        stats.action("drain");
        // The operator stops a drained node: here, after a while, drained or not.
        clock.schedule(5_000 + Math.floorMod(action.pick(), 5_000), () -> {
          if (nodes.get(slot) == node && node.alive()) {
            restartSlot(slot);
          }
        });
      }));
      case SPLIT -> withSpan(action, (m, r) -> {
        if (m.split(r.span(), List.of(ByteString.copyFrom(new byte[] {(byte) Math.floorMod(action.pick() >> 8, 256)})))) {
          stats.action("split");
        }
      });
      case MERGE -> withSpan(action, (m, r) -> {
        List<TableSpan> parts = m.spans().all().stream().map(SpanReplication::span)
            .filter(s -> s.getTableId() == r.span().getTableId()).sorted(TableSpans.ORDER).toList();
        if (parts.size() >= 2 && m.merge(parts.subList(0, 2))) {
          stats.action("merge");
        }
      });
      case MOVE_SPAN -> withSpan(action, (m, r) -> {
        if (m.move(r.span(), node.id)) {
          stats.action("move-span");
        }
      });
      case CRASH -> crashFor(slot, action.duration(), "crash");
      case KILL_COORDINATOR -> nodes.values().stream().filter(n -> n.coordinator().isPresent()).findFirst()
          .ifPresent(leader -> crashFor(leader.slot, action.duration(), "kill-coordinator"));
      case PARTITION -> {
        String other = slots.get(Math.floorMod(action.pick() + 1, slots.size()));
        stats.count("partition");
        network.partition(slot, other);
        clock.schedule(action.duration(), () -> network.heal(slot, other));
      }
      case STORE_DISCONNECT -> {
        stats.count("store-disconnect");
        SimulatedMetaStore.Client client = node.store();
        client.disconnect();
        clock.schedule(action.duration(), client::reconnect);
      }
      case STORE_DOWN -> {
        stats.count("store-down");
        store.unavailable(true);
        clock.schedule(action.duration(), () -> store.unavailable(false));
      }
      case RESIGN -> nodes.values().stream().filter(n -> n.coordinator().isPresent()).findFirst().ifPresent(leader -> {
        stats.count("resign");
        leader.resign();
      });
    }
  }

  /**
   * A changefeed of three tables: DDL-dense ones (a table lives about 6 s: a DDL every 1–2 s lands while ownership
   * moves) or long-lived ones (about 50 s: more rows per table, and replays that reach further back).
   */
  private void create(Plan.Action action) {
    leader().ifPresent(c -> {
      int n = ++created;
      createdIds.add(ChangefeedId.of("cf-" + n));
      long lifetime = (action.pick() & 1) == 0 ? 256 : DatagenModel.DEFAULT_LIFETIME;
      ChangefeedInfo info = ChangefeedInfo.newBuilder().setId("cf-" + n).setSinkUri("sim://cf-" + n)
          .setSourceUri("datagen://?tables=3&seed=" + (seed + n) + "&rate=40&lifetime=" + lifetime).build();
      c.create(info).onSuccess(r -> stats.action("create"));
    });
  }

  /** The process of {@code slot} dies, and a new one starts after {@code millis} (unless the heal started one first). */
  private void crashFor(String slot, long millis, String fault) {
    stats.count(fault);
    crashSlot(slot);
    clock.schedule(millis, () -> {
      if (!healed && !nodes.get(slot).alive()) {
        startSlot(slot);
      }
    });
  }

  /** Any changefeed the coordinator knows, picked by the action. */
  private void withChangefeed(Plan.Action action, BiConsumer<Coordinator, ChangefeedId> call) {
    withChangefeed(action, 1, r -> true, call);
  }

  /** A running changefeed, when another keeps running: a seed always has one to move and write. */
  private void withSpareChangefeed(Plan.Action action, BiConsumer<Coordinator, ChangefeedId> call) {
    withChangefeed(action, 2, r -> r.info().getState() == ChangefeedState.CHANGEFEED_STATE_NORMAL, call);
  }

  /** One of the changefeeds {@code eligible} admits, picked by the action, when there are at least {@code atLeast}. */
  private void withChangefeed(Plan.Action action, int atLeast, Predicate<ChangefeedRecord> eligible,
      BiConsumer<Coordinator, ChangefeedId> call) {
    leader().ifPresent(c -> {
      List<ChangefeedRecord> candidates = c.list().stream().filter(eligible).toList();
      if (candidates.size() >= atLeast) {
        call.accept(c, candidates.get(Math.floorMod(action.pick() >> 4, candidates.size())).id());
      }
    });
  }

  /** A span of a changefeed, on the node whose maintainer owns it now. */
  private void withSpan(Plan.Action action, BiConsumer<ChangefeedMaintainer, SpanReplication> call) {
    List<ChangefeedMaintainer> owners = nodes.values().stream().filter(SimNode::alive)
        .flatMap(n -> n.runningMaintainers().keySet().stream().map(n::maintainer).flatMap(Optional::stream)).toList();
    if (owners.isEmpty()) {
      return;
    }
    ChangefeedMaintainer m = owners.get(Math.floorMod(action.pick() >> 4, owners.size()));
    // Sorted: the controller's own order is a hash map's, which a replay need not share.
    List<SpanReplication> spans = m.spans().all().stream().filter(r -> r.span().getTableId() != TableSpans.DDL_TABLE_ID && !r.absent())
        .sorted(Comparator.comparing(SpanReplication::span, TableSpans.ORDER)).toList();
    if (!spans.isEmpty()) {
      call.accept(m, spans.get(Math.floorMod(action.pick() >> 12, spans.size())));
    }
  }

  /** The faults stop: partitions heal, the store and every client reconnect, every slot runs a node again. */
  private void heal() {
    healed = true;
    history.record(elapsed(), "heal");
    network.faults(SimNetwork.Faults.NONE);
    network.healAll();
    store.unavailable(false);
    for (String slot : List.copyOf(nodes.keySet())) {
      SimNode node = nodes.get(slot);
      if (node.alive()) {
        node.store().reconnect();
      } else {
        startSlot(slot);
      }
    }
  }

  // ---- convergence ----------------------------------------------------------------------------------------------

  /**
   * Every running changefeed's checkpoint passed the moment the faults stopped, and no node still takes writes of a
   * changefeed that is not running (stopped, or removed).
   */
  private boolean converged(long healAt) {
    Optional<Coordinator> c = leader();
    if (c.isEmpty() || !c.get().bootstrapped() || !stillWriting(c.get()).isEmpty()) {
      return false;
    }
    long target = healAt << TimestampOracle.LOGICAL_BITS;
    for (ChangefeedRecord r : c.get().list()) {
      ChangefeedState state = r.info().getState();
      if (state == ChangefeedState.CHANGEFEED_STATE_NORMAL && r.status().getCheckpointTs() < target) {
        return false;
      }
      if (state != ChangefeedState.CHANGEFEED_STATE_NORMAL && state != ChangefeedState.CHANGEFEED_STATE_STOPPED) {
        return false;
      }
    }
    return true;
  }

  private String lag(long healAt) {
    Optional<Coordinator> c = leader();
    if (c.isEmpty()) {
      return "no coordinator";
    }
    StringBuilder out = new StringBuilder(c.get().bootstrapped() ? "" : "coordinator not bootstrapped; ");
    stillWriting(c.get()).forEach(w -> out.append(w).append("; "));
    for (ChangefeedRecord r : c.get().list()) {
      out.append(r.id()).append(' ').append(r.info().getState()).append(" checkpoint ")
          .append(TimestampOracle.physicalMillis(r.status().getCheckpointTs()) - healAt).append(" ms from the heal; ");
    }
    return out.toString();
  }

  /** The nodes whose dispatcher manager of a changefeed that is not running still takes writes. */
  private List<String> stillWriting(Coordinator c) {
    List<String> out = new ArrayList<>();
    for (ChangefeedId cf : createdIds) {
      Optional<ChangefeedState> state = c.query(cf).map(r -> r.info().getState());
      if (state.isPresent() && state.get() == ChangefeedState.CHANGEFEED_STATE_NORMAL) {
        continue;
      }
      for (SimNode node : nodes.values()) {
        if (node.takesWrites(cf)) {
          out.add(cf + " is " + state.map(Enum::name).orElse("removed") + ", yet " + node.id + " still takes its writes");
        }
      }
    }
    return out;
  }

  /** After convergence: each changefeed's downstream equals its source replayed to its checkpoint. */
  private void checkContent() {
    Coordinator c = leader().orElseThrow();
    for (ChangefeedRecord r : c.list()) {
      Downstream d = downstreams.get(r.id());
      long from = r.info().getStartTs();
      long until = r.status().getCheckpointTs();
      var expected = DatagenReplay.events(DatagenReplay.spec(r.info().getSourceUri()), from, until);
      if (d == null) {
        if (!expected.isEmpty()) {
          violation("CONTENT: " + r.id() + " never wrote, yet its checkpoint " + until + " passed " + expected.size() + " events");
        }
        continue;
      }
      CheckReport report = ConsistencyCheck.compare(expected, d.written(), from, until);
      if (!report.equal()) {
        violation("CONTENT: " + r.id() + "'s downstream differs from its source replayed to " + until + ": " + report.render());
      }
      FinalState.diff(expected, d.written(), until).ifPresent(diff ->
          violation("CONTENT_ORDER: " + r.id() + "'s downstream, applied in the order written, ends elsewhere than its source: "
              + diff.what() + "\n      its writes, in order:\n        " + String.join("\n        ", d.story(diff.table(), diff.key()))));
    }
  }
}
