package io.feedline.node.simulation;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.FaultRules;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.dispatcher.check.CheckInputException;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.FileSinkCheck;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.InJvmCluster;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedState;
import io.vertx.core.Future;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One seeded run: a cluster under a random schedule of workload (create, pause, resume, remove, move) and
 * faults (message drop / delay / duplicate / reorder, partitions between node pairs, node crash and
 * restart, coordinator kill, metastore restart), with every invariant checked after every step and every
 * {@link #SAMPLE_EVERY} in between; then the faults stop and the cluster must converge. The metastore (etcd
 * or the embedded store, see {@link SimulatedCluster.Store}) restarts once per run: at a random step, or
 * at one of the first steps drawn from the seed if no step chose it before. Every decision comes
 * from one {@link Random} seeded with the run's seed, and the step log is part of every failure.
 */
final class Simulation {

  static final Duration SAMPLE_EVERY = Duration.ofMillis(250);
  private static final Duration CONVERGE_WITHIN = Duration.ofSeconds(90);
  private static final int NODES = 3;
  private static final int MAX_CHANGEFEEDS = 8;
  private static final List<String> CONTROL_TYPES = List.of("AddMaintainerRequest", "RemoveMaintainerRequest",
      "MaintainerHeartbeat", "CoordinatorBootstrapRequest", "CoordinatorBootstrapResponse", "MaintainerBootstrapRequest",
      "MaintainerBootstrapResponse", "MaintainerCloseRequest", "MaintainerCloseResponse", "ScheduleDispatcherRequest",
      "DispatcherHeartbeat");

  /** Something to undo later: heal a partition, lift a message fault, restart a crashed slot. */
  private record Undo(long dueNanos, String what, Runnable action) {}

  private final long seed;
  private final Duration chaos;
  private final SimulatedCluster.Store store;
  private final Random random;
  private final List<String> log = new ArrayList<>();
  private final PriorityQueue<Undo> undos = new PriorityQueue<>(Comparator.comparingLong(Undo::dueNanos));
  private final ClusterInvariants invariants = new ClusterInvariants();
  private final List<String> violations = new ArrayList<>();
  private SimulatedCluster cluster;
  private long startNanos;
  private int created;
  private Map<ChangefeedId, Long> checkpointsAtHeal = Map.of();
  private boolean metastoreRestarted;

  Simulation(long seed, Duration chaos, SimulatedCluster.Store store) {
    this.seed = seed;
    this.chaos = chaos;
    this.store = store;
    this.random = new Random(seed);
  }

  /** Runs the whole scenario; the result says whether every invariant held and the cluster converged. */
  Result run() {
    startNanos = System.nanoTime();
    try (SimulatedCluster c = SimulatedCluster.start(NODES, seed, store)) {
      cluster = c;
      record("started " + NODES + " nodes on " + store.flag() + " " + c.nodes().live().stream().map(NodeRuntime::nodeId).toList());
      awaitLeader();
      for (int i = 0; i < 3; i++) {
        create();
      }
      long chaosEnd = System.nanoTime() + chaos.toNanos();
      // Every run restarts the metastore once: at a step drawn from the seed (so a replay restarts it at
      // the same point of the schedule), unless a random step did it before.
      int restartAtStep = 1 + random.nextInt(6);
      for (int steps = 0; System.nanoTime() < chaosEnd && violations.isEmpty(); steps++) {
        runDueUndos(false);
        if (!metastoreRestarted && steps == restartAtStep) {
          restartMetastore();
        }
        step();
        sampleFor(Duration.ofMillis(500 + random.nextInt(1500)));
      }
      record("faults stop: healing and restarting every down slot");
      runDueUndos(true);
      checkpointsAtHeal = checkpoints();
      String divergence = awaitConverged();
      if (divergence.isEmpty() && violations.isEmpty()) {
        divergence = sinksEqualTheReplay();
      }
      violations.addAll(c.history().violations());
      return new Result(seed, List.copyOf(violations), divergence, List.copyOf(log));
    }
  }

  record Result(long seed, List<String> violations, String divergence, List<String> log) {
    boolean passed() {
      return violations.isEmpty() && divergence.isEmpty();
    }

    String report() {
      StringBuilder out = new StringBuilder();
      violations.forEach(v -> out.append("VIOLATION ").append(v).append('\n'));
      if (!divergence.isEmpty()) {
        out.append("NOT CONVERGED: ").append(divergence).append('\n');
      }
      out.append("steps:\n");
      log.forEach(line -> out.append("  ").append(line).append('\n'));
      return out.toString();
    }
  }

  // ---- the schedule ----

  private void step() {
    int roll = random.nextInt(100);
    if (roll < 12) {
      create();
    } else if (roll < 20) {
      onChangefeed(ChangefeedState.CHANGEFEED_STATE_NORMAL, "pause", (c, id) -> c.pause(id));
    } else if (roll < 28) {
      onChangefeed(ChangefeedState.CHANGEFEED_STATE_STOPPED, "resume", (c, id) -> c.resume(id, 0));
    } else if (roll < 32) {
      onChangefeed(null, "remove", (c, id) -> c.remove(id));
    } else if (roll < 47) {
      move();
    } else if (roll < 65) {
      messageFault();
    } else if (roll < 78) {
      partition();
    } else if (roll < 88) {
      crash(false);
    } else if (roll < 96) {
      crash(true);
    } else if (!metastoreRestarted) {
      restartMetastore();
    }
  }

  private void restartMetastore() {
    metastoreRestarted = true;
    record("restart the metastore (" + store.flag() + ")");
    cluster.restartMetastore();
    record("the metastore serves again");
  }

  private void create() {
    String id = "cf-" + (++created);
    // 12 tables at 40 ticks/s: about one DDL (create, drop, truncate, add column) every 2 s per changefeed, so
    // schema changes land while maintainers move, crash and hand off (a re-created table lost rows in that window).
    ChangefeedInfo info = ChangefeedInfo.newBuilder().setId(id)
        .setSourceUri("datagen://?tables=12&rate=40&seed=" + (seed + created))
        .setSinkUri("file://" + cluster.sinkDir(id)).build();
    onLeader("create " + id, c -> c.create(info).mapEmpty());
  }

  private interface ChangefeedAction {
    Future<?> apply(Coordinator coordinator, ChangefeedId id);
  }

  private void onChangefeed(ChangefeedState state, String verb, ChangefeedAction action) {
    List<ChangefeedRecord> all = InJvmCluster.join(cluster.registry().loadAll());
    List<ChangefeedRecord> candidates = all.stream()
        .filter(r -> state == null || r.info().getState() == state)
        .sorted(Comparator.comparing(r -> r.id().value()))
        .toList();
    if (candidates.isEmpty() || (verb.equals("remove") && all.size() <= 3)) {
      return;
    }
    ChangefeedId id = candidates.get(random.nextInt(candidates.size())).id();
    onLeader(verb + " " + id, c -> action.apply(c, id).mapEmpty());
  }

  private void move() {
    Optional<NodeRuntime> leader = cluster.nodes().leader();
    List<NodeRuntime> live = cluster.nodes().live();
    if (leader.isEmpty() || live.size() < 2) {
      return;
    }
    Map<ChangefeedId, NodeId> owners = ClusterProbe.onCoordinator(leader.get(), c -> Future.succeededFuture(c.maintainers()));
    if (owners.isEmpty()) {
      return;
    }
    List<ChangefeedId> ids = owners.keySet().stream().sorted().toList();
    ChangefeedId id = ids.get(random.nextInt(ids.size()));
    NodeId dest = live.get(random.nextInt(live.size())).nodeId();
    onLeader("move " + id + " from " + owners.get(id) + " to " + dest, c -> c.moveMaintainer(id, dest));
  }

  private void messageFault() {
    FaultRules.Action action = FaultRules.Action.values()[random.nextInt(FaultRules.Action.values().length)];
    Set<String> types = random.nextBoolean() ? Set.of() : Set.of(CONTROL_TYPES.get(random.nextInt(CONTROL_TYPES.size())));
    double probability = 0.1 + random.nextInt(5) * 0.1;
    long millis = action == FaultRules.Action.DROP ? 0 : 50 + random.nextInt(750);
    FaultRules.Rule rule = new FaultRules.Rule(types, null, null, action, probability, millis);
    cluster.faults().add(rule);
    String what = action + " p=" + String.format("%.1f", probability) + " " + (types.isEmpty() ? "all messages" : types) + " " + millis + "ms";
    record("fault " + what);
    later(Duration.ofMillis(2000 + random.nextInt(4000)), "lift fault " + what, () -> cluster.faults().remove(rule));
  }

  private void partition() {
    List<NodeRuntime> live = cluster.nodes().live();
    if (live.size() < 2) {
      return;
    }
    int a = random.nextInt(live.size());
    int b = (a + 1 + random.nextInt(live.size() - 1)) % live.size();
    NodeId na = live.get(a).nodeId();
    NodeId nb = live.get(b).nodeId();
    List<FaultRules.Rule> rules = cluster.faults().partition(na, nb);
    record("partition " + na + " | " + nb);
    later(Duration.ofMillis(2000 + random.nextInt(4000)), "heal " + na + " | " + nb, () -> cluster.faults().removeAll(rules));
  }

  private void crash(boolean coordinator) {
    List<NodeRuntime> live = cluster.nodes().live();
    if (live.size() < 2) {
      return;
    }
    NodeRuntime victim;
    if (coordinator) {
      Optional<NodeRuntime> leader = cluster.nodes().leader();
      if (leader.isEmpty()) {
        return;
      }
      victim = leader.get();
    } else {
      victim = live.get(random.nextInt(live.size()));
    }
    int slot = cluster.nodes().slotOf(victim);
    record((coordinator ? "kill the coordinator's node " : "crash ") + victim.nodeId() + " (slot " + slot + ")");
    cluster.crash(slot);
    restartLater(slot, Duration.ofMillis(2000 + random.nextInt(6000)), "restart slot " + slot);
  }

  private void restartLater(int slot, Duration after, String what) {
    later(after, what, () -> {
      cluster.nodes().restart(slot);
      record("slot " + slot + " is now " + cluster.nodes().node(slot).nodeId());
    });
  }

  private void onLeader(String what, Function<Coordinator, Future<Void>> action) {
    Optional<NodeRuntime> leader = cluster.nodes().leader();
    if (leader.isEmpty()) {
      record(what + ": skipped, no coordinator");
      return;
    }
    try {
      ClusterProbe.onCoordinator(leader.get(), action);
      record(what);
    } catch (CompletionException e) {
      // Refusals are part of the game (an operator in flight, a leader just deposed); they change nothing.
      record(what + ": refused (" + e.getCause().getMessage() + ")");
    }
  }

  // ---- time, undo and checks ----

  private void later(Duration after, String what, Runnable action) {
    undos.add(new Undo(System.nanoTime() + after.toNanos(), what, action));
  }

  private void runDueUndos(boolean all) {
    while (!undos.isEmpty() && (all || undos.peek().dueNanos() <= System.nanoTime())) {
      Undo undo = undos.poll();
      record(undo.what());
      undo.action().run();
    }
  }

  private void sampleFor(Duration duration) {
    long end = System.nanoTime() + duration.toNanos();
    do {
      superviseLost();
      check();
      sleep(SAMPLE_EVERY);
    } while (System.nanoTime() < end && violations.isEmpty());
  }

  /** A node that lost its session has exited; its supervisor starts the slot again a little later. */
  private void superviseLost() {
    for (int slot : cluster.nodes().reapLost()) {
      record("slot " + slot + " lost its metastore session and exited");
      restartLater(slot, Duration.ofMillis(1000 + random.nextInt(2000)), "supervisor restarts slot " + slot);
    }
  }

  private void check() {
    for (String v : invariants.check(cluster.nodes().live())) {
      violations.add(v);
      record("violation: " + v);
    }
    for (String v : cluster.history().violations()) {
      if (!violations.contains(v)) {
        violations.add(v);
        record("violation: " + v);
      }
    }
  }

  private void awaitLeader() {
    long deadline = System.nanoTime() + CONVERGE_WITHIN.toNanos();
    while (cluster.nodes().leader().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no coordinator within " + CONVERGE_WITHIN);
      }
      sleep(SAMPLE_EVERY);
    }
  }

  /** Waits until the cluster converged; returns "" or why it did not. */
  private String awaitConverged() {
    long deadline = System.nanoTime() + CONVERGE_WITHIN.toNanos();
    String why;
    do {
      superviseLost();
      runDueUndos(true);
      check();
      why = divergence();
      if (why.isEmpty()) {
        record("converged");
        return "";
      }
      sleep(Duration.ofMillis(500));
    } while (System.nanoTime() < deadline && violations.isEmpty());
    record("not converged: " + why);
    return why;
  }

  /**
   * Converged: a bootstrapped coordinator; every normal changefeed runs exactly one maintainer, on a live
   * node, at its persisted epoch, where the coordinator says; no other changefeed runs a maintainer.
   */
  private String divergence() {
    Optional<NodeRuntime> leader = cluster.nodes().leader();
    if (leader.isEmpty()) {
      return "no coordinator";
    }
    List<ChangefeedRecord> all = InJvmCluster.join(cluster.registry().loadAll());
    List<ChangefeedRecord> normal = all.stream().filter(r -> r.info().getState() == ChangefeedState.CHANGEFEED_STATE_NORMAL).toList();
    String maintainers = ClusterProbe.maintainerDivergence(normal, cluster.nodes().live(), leader.get());
    if (!maintainers.isEmpty()) {
      return maintainers;
    }
    for (ChangefeedRecord r : normal) {
      long atHeal = checkpointsAtHeal.getOrDefault(r.id(), 0L);
      if (Long.compareUnsigned(r.status().getCheckpointTs(), atHeal) <= 0) {
        return r.id() + " has not checkpointed past " + Long.toUnsignedString(atHeal) + " since the faults stopped";
      }
    }
    Set<ChangefeedId> normalIds = normal.stream().map(ChangefeedRecord::id).collect(Collectors.toSet());
    for (var running : ClusterProbe.runningMaintainers(cluster.nodes().live()).entrySet()) {
      if (!normalIds.contains(running.getKey())) {
        return running.getKey() + " is not normal but runs maintainers on " + running.getValue();
      }
    }
    return "";
  }

  private Map<ChangefeedId, Long> checkpoints() {
    return InJvmCluster.join(cluster.registry().loadAll()).stream()
        .collect(Collectors.toMap(ChangefeedRecord::id, r -> r.status().getCheckpointTs()));
  }

  /**
   * DESIGN §9.5: every changefeed still registered is paused, and once no dispatcher of it is left its file
   * sink must equal the datagen replay up to its persisted checkpoint. "" or the differences.
   */
  private String sinksEqualTheReplay() {
    // A pause can be refused for the moment (an operator of that changefeed still in flight): asked again
    // every second until the registry says stopped.
    long deadline = System.nanoTime() + CONVERGE_WITHIN.toNanos();
    long nextPause = System.nanoTime();
    List<ChangefeedRecord> all;
    while (true) {
      all = InJvmCluster.join(cluster.registry().loadAll());
      List<ChangefeedRecord> running = all.stream().filter(r -> r.info().getState() == ChangefeedState.CHANGEFEED_STATE_NORMAL).toList();
      if (running.isEmpty() && ClusterProbe.workingDispatchers(cluster.nodes().live()).isEmpty()) {
        break;
      }
      if (System.nanoTime() > deadline) {
        return "not paused or dispatchers still working " + CONVERGE_WITHIN + " after pausing every changefeed began; still running: "
            + running.stream().map(ChangefeedRecord::id).toList();
      }
      if (System.nanoTime() >= nextPause) {
        nextPause = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        running.forEach(r -> onLeader("pause " + r.id() + " to check its sink", c -> c.pause(r.id()).mapEmpty()));
      }
      sleep(SAMPLE_EVERY);
    }
    for (ChangefeedRecord r : all) {
      try {
        // Up to the persisted checkpoint, the authority (DESIGN §9.4): the sink's own checkpoint knows only
        // the spans that wrote, so a table whose dispatcher never got to write would look missing up to it.
        // A changefeed paused (or cut off) before its first write has no sink directory: from its start it must
        // hold nothing, which is right only while its checkpoint never moved (seeds 5271486542537, 5511337281054).
        long checkpoint = r.status().getCheckpointTs();
        CheckReport report = Files.notExists(FileSinkCheck.fileSinkDir(r.info().getSinkUri()))
            ? FileSinkCheck.checkNeverOpened(r.info().getSourceUri(), r.info().getStartTs(), checkpoint)
            : FileSinkCheck.check(r.info().getSourceUri(), r.info().getSinkUri(), OptionalLong.empty(), OptionalLong.of(checkpoint));
        record("sink of " + r.id() + ": " + (report.equal() ? "equal" : "DIFFERENT") + " up to " + Long.toUnsignedString(report.until()));
        if (!report.equal()) {
          return "the sink of " + r.id() + " differs from the replay:\n" + report.render();
        }
      } catch (CheckInputException e) {
        // Paused before its first span checkpoint (created late in the run): nothing written to compare.
        record("sink of " + r.id() + ": not checked (" + e.getMessage() + ")");
      } catch (java.io.IOException e) {
        return "cannot read the sink of " + r.id() + ": " + e;
      }
    }
    return "";
  }

  private void record(String line) {
    log.add(String.format("t=%6.2fs %s", (System.nanoTime() - startNanos) / 1e9, line));
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
