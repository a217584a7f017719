package io.feedline.coordinator;

import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.feedline.common.time.Scheduler;
import io.feedline.coordinator.CoordinatorException.Reason;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.ChangefeedStoreException;
import io.feedline.coordinator.changefeed.EpochBump;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.coordinator.operator.AddMaintainer;
import io.feedline.coordinator.operator.MaintainerOperator;
import io.feedline.coordinator.operator.MoveMaintainer;
import io.feedline.coordinator.operator.OperatorController;
import io.feedline.coordinator.operator.StopChangefeed;
import io.feedline.coordinator.scheduler.BalanceScheduler;
import io.feedline.coordinator.scheduler.BasicScheduler;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.RunningError;
import io.feedline.proto.SetNodeLivenessResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elected coordinator's state machine (DESIGN §5): the changefeed registry in memory, maintainer
 * placement through operators, status admission, and failover adoption. One instance per term of
 * leadership, driven on one Vert.x context by {@link #tick()}, inbound messages, membership changes and
 * admin calls; every decision that needs a new owner persists the epoch first.
 */
public final class Coordinator {

  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
  private static final int ADMIN_WRITE_ATTEMPTS = 3;
  /**
   * A maintainer status that moves a checkpoint persists the checkpoints at once when the last batch is at
   * least this old (besides every tick): one batch of transactions per interval at most, whatever the
   * number of changefeeds, and a persisted checkpoint about one maintainer heartbeat behind the sink.
   */
  static final long CHECKPOINT_PERSIST_INTERVAL_MS = 100;

  private final NodeId self;
  private final long electionVersion;
  private final ChangefeedStore store;
  private final Supplier<Future<Long>> timestamps;
  private final Consumer<Outbound> outbox;
  private final Scheduler clock;
  private final CoordinatorSettings settings;
  private final MeterRegistry metrics;
  private final FenceRejections rejections;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 4096);

  private final Map<ChangefeedId, Changefeed> changefeeds = new TreeMap<>();
  private final OperatorController operators = new OperatorController();
  private final Set<NodeId> nodes = new TreeSet<>();
  /** Nodes that have not answered this coordinator's bootstrap: they do not obey it yet. */
  private final Set<NodeId> unacknowledged = new TreeSet<>();
  /** The nodes that were alive when this term began: adoption waits for all of them. */
  private final Set<NodeId> awaitingInitial = new HashSet<>();
  private final List<Reported> bootstrapReports = new ArrayList<>();
  /** Maintainers told to remove themselves with their own epoch, re-sent until confirmed. */
  private final Map<StaleMaintainer, RemoveMaintainerRequest> staleMaintainers = new LinkedHashMap<>();
  /** When each node's maintainer manager was last heard from (a heartbeat); for the heartbeat-age gauge. */
  private final Map<NodeId, Long> lastHeartbeatMillis = new HashMap<>();
  /** When each running operator was pushed, for its duration when it finishes. */
  private final Map<MaintainerOperator, Long> operatorStartedMillis = new java.util.IdentityHashMap<>();
  private long startedMillis;
  private final DrainController drain;
  /** Changefeeds whose maintainer this coordinator is moving off the drain target. */
  private final Set<ChangefeedId> drainMoves = new HashSet<>();
  private boolean started;
  private boolean bootstrapped;
  private boolean persistingCheckpoints;
  private long lastCheckpointPersistAt = Long.MIN_VALUE / 2;
  /** A status moved a checkpoint while a batch was in flight or too recent: another batch follows. */
  private boolean checkpointsPending;
  private Scheduler.Cancellable checkpointTimer;
  private long lastResendAt = Long.MIN_VALUE / 2;
  private long lastBalanceAt;

  /** Every operator kind, so that their counters exist before the first operator runs. */
  private static final List<String> OPERATOR_KINDS = List.of(AddMaintainer.class.getSimpleName(), MoveMaintainer.class.getSimpleName(),
      StopChangefeed.class.getSimpleName());

  private record Reported(NodeId node, MaintainerStatus status) {}

  private record StaleMaintainer(NodeId node, ChangefeedId changefeed, long epoch) {}

  public Coordinator(NodeId self, long electionVersion, ChangefeedStore store, Supplier<Future<Long>> timestamps,
      Consumer<Outbound> outbox, Scheduler clock, CoordinatorSettings settings, MeterRegistry metrics) {
    this.self = self;
    this.electionVersion = electionVersion;
    this.store = store;
    this.timestamps = timestamps;
    this.outbox = outbox;
    this.clock = clock;
    this.settings = settings;
    this.metrics = metrics;
    this.rejections = new FenceRejections("coordinator", metrics, List.of(MaintainerStatus.getDescriptor()));
    this.drain = new DrainController(electionVersion, clock, settings.drain());
    // At 0 before the first operator runs: an alert on rate() or increase() sees the first one too.
    for (String kind : OPERATOR_KINDS) {
      operatorsStarted(kind);
      for (MaintainerOperator.Outcome outcome : MaintainerOperator.Outcome.values()) {
        operatorsFinished(kind, outcome);
        operatorDuration(kind, outcome);
      }
    }
  }

  private Counter operatorsStarted(String kind) {
    return Meters.counter(metrics, "feedline.coordinator.operators.started", "Coordinator operators started, by kind", "kind", kind);
  }

  private Counter operatorsFinished(String kind, MaintainerOperator.Outcome outcome) {
    return Meters.counter(metrics, "feedline.coordinator.operators.finished", "Coordinator operators that finished, by kind and outcome",
        "kind", kind, "outcome", outcome.name().toLowerCase(Locale.ROOT));
  }

  private Timer operatorDuration(String kind, MaintainerOperator.Outcome outcome) {
    return Timer.builder("feedline.coordinator.operator.duration").description("From an operator's start to its outcome")
        .tags("kind", kind, "outcome", outcome.name().toLowerCase(Locale.ROOT)).register(metrics);
  }

  public long electionVersion() {
    return electionVersion;
  }

  /** Loads the registry and asks every live node for its maintainers. */
  public Future<Void> start(Set<NodeId> liveNodes) {
    nodes.addAll(liveNodes);
    liveNodes.forEach(drain::onNodeJoined);
    awaitingInitial.addAll(liveNodes);
    unacknowledged.addAll(liveNodes);
    lastBalanceAt = clock.nowMillis();
    startedMillis = clock.nowMillis();
    return store.loadAll().map(records -> {
      records.forEach(r -> changefeeds.put(r.id(), new Changefeed(r)));
      started = true;
      LOG.info("event=coordinator_started node={} election_version={} changefeeds={} nodes={}", self, electionVersion, records.size(), nodes);
      sendBootstraps();
      return null;
    });
  }

  // ---- inputs ---------------------------------------------------------------------------------------

  /**
   * The term ended: no timer of this coordinator runs again (the tick is the verticle's to cancel). Writes
   * already in flight complete; fencing them by leadership is the store's job.
   */
  public void stop() {
    started = false;
    if (checkpointTimer != null) {
      checkpointTimer.cancel();
      checkpointTimer = null;
    }
  }

  public void onInbound(Inbound in) {
    if (in.payload() instanceof MaintainerHeartbeat heartbeat) {
      if (nodes.contains(in.from())) {
        lastHeartbeatMillis.put(in.from(), clock.nowMillis());
      }
      if (bootstrapped) {
        heartbeat.getStatusesList().forEach(s -> onStatus(in.from(), s));
      }
    } else if (in.payload() instanceof CoordinatorBootstrapResponse response) {
      onBootstrapResponse(in.from(), response);
    } else if (in.payload() instanceof NodeHeartbeat heartbeat) {
      drain.onNodeHeartbeat(in.from(), heartbeat);
    } else if (in.payload() instanceof SetNodeLivenessResponse response) {
      drain.onLivenessResponse(in.from(), response);
    } else {
      onceLog.info(List.of("unexpected", in.type()), () -> "event=unexpected_message role=coordinator type=" + in.type() + " from=" + in.from());
    }
  }

  public void onNodeJoined(NodeId node) {
    if (nodes.add(node)) {
      unacknowledged.add(node);
      send(new Outbound(node, Role.MAINTAINER_MANAGER, bootstrapRequest()));
      drain.onNodeJoined(node).forEach(this::send);
    }
  }

  public void onNodeLeft(NodeId node) {
    if (!nodes.remove(node)) {
      return;
    }
    unacknowledged.remove(node);
    awaitingInitial.remove(node);
    lastHeartbeatMillis.remove(node);
    operators.onNodeRemoved(node);
    drain.onNodeLeft(node).forEach(this::send);
    staleMaintainers.keySet().removeIf(s -> s.node().equals(node));
    for (Changefeed cf : changefeeds.values()) {
      if (node.equals(cf.owner())) {
        // Its maintainer died with the node: the next placement bumps the epoch, fencing its dispatchers.
        LOG.info("event=maintainer_lost changefeed={} node={} epoch={}", cf.id(), node, Epochs.format(cf.epoch()));
        cf.disown();
      }
    }
  }

  /** Periodic work: resends, adoption after bootstrap, finished operators, stops, placement, balance, checkpoints. */
  public void tick() {
    if (!started) {
      return;
    }
    long now = clock.nowMillis();
    if (now - lastResendAt >= settings.resendInterval().toMillis()) {
      lastResendAt = now;
      sendBootstraps();
      operators.pendingMessages().forEach(this::send);
      staleMaintainers.forEach((stale, request) -> send(new Outbound(stale.node(), Role.MAINTAINER_MANAGER, request)));
    }
    if (!bootstrapped) {
      if (!awaitingInitial.isEmpty()) {
        return;
      }
      adoptReportedMaintainers();
    }
    operators.takeFinished().forEach(this::onOperatorFinished);
    driveStops();
    placeAbsent(now);
    moveOffDrainTarget();
    drain.tick(drainProgress()).forEach(this::send);
    if (now - lastBalanceAt >= settings.balanceInterval().toMillis()) {
      lastBalanceAt = now;
      if (!drain.balancePaused()) {
        balance();
      }
    }
    persistCheckpoints();
  }

  private void onBootstrapResponse(NodeId from, CoordinatorBootstrapResponse response) {
    if (response.getElectionVersion() != electionVersion) {
      return; // an answer to an earlier coordinator's bootstrap
    }
    unacknowledged.remove(from);
    drain.onBootstrapTarget(from, response.getDrainTarget()).forEach(this::send);
    if (!bootstrapped && awaitingInitial.remove(from)) {
      response.getStatusesList().forEach(s -> bootstrapReports.add(new Reported(from, s)));
    } else if (bootstrapped) {
      response.getStatusesList().forEach(s -> onStatus(from, s));
    }
  }

  /**
   * Failover: every node answered. For each changefeed adopt the one maintainer running at the persisted
   * epoch; every other reported maintainer is stopped with its own epoch.
   */
  private void adoptReportedMaintainers() {
    bootstrapped = true;
    int adopted = 0;
    for (Reported r : bootstrapReports) {
      MaintainerStatus s = r.status();
      if (!ChangefeedId.isValid(s.getChangefeedId()) || !active(s)) {
        continue;
      }
      Changefeed cf = changefeeds.get(ChangefeedId.of(s.getChangefeedId()));
      if (cf != null && cf.owner() == null && s.getEpoch() == cf.epoch() && nodes.contains(r.node())) {
        cf.adopt(r.node(), s.getEpoch());
        cf.reportedCheckpoint = Math.max(cf.reportedCheckpoint, s.getCheckpointTs());
        adopted++;
      } else {
        removeStale(r.node(), ChangefeedId.of(s.getChangefeedId()), s.getEpoch());
      }
    }
    bootstrapReports.clear();
    LOG.info("event=coordinator_bootstrapped election_version={} adopted={} stale={} changefeeds={}",
        electionVersion, adopted, staleMaintainers.size(), changefeeds.size());
  }

  private void onStatus(NodeId from, MaintainerStatus status) {
    if (status == null || !ChangefeedId.isValid(status.getChangefeedId())) {
      Meters.counter(metrics, "feedline.coordinator.malformed_statuses", "Maintainer statuses the coordinator could not read").increment();
      onceLog.warn(List.of("bad-status", from), () -> "event=malformed_status from=" + from + " changefeed='" + (status == null ? "" : status.getChangefeedId()) + "'");
      return;
    }
    ChangefeedId id = ChangefeedId.of(status.getChangefeedId());
    if (!active(status)) {
      staleMaintainers.remove(new StaleMaintainer(from, id, status.getEpoch()));
    }
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      if (active(status)) {
        removeStale(from, id, status.getEpoch());
      }
      return;
    }
    boolean operated = advanceOperator(id, from, status);
    Fence owner = new Fence(cf.owner(), cf.epoch(), cf.epoch() == Epochs.COMPAT, false, Epochs.COMPAT);
    Fence.Decision decision = owner.admitControl(from, status.getEpoch());
    if (!decision.accepted()) {
      // The operator of this changefeed talks to maintainers at other epochs (a move's origin, an add's
      // destination before it is adopted); anything else active is a maintainer nobody owns any more.
      if (!operated && active(status)) {
        rejections.check(decision, id.value(), "MaintainerStatus", from, status.getEpoch(), owner);
        removeStale(from, id, status.getEpoch());
      }
      return;
    }
    if (!active(status)) {
      if (!operators.busy(id)) {
        cf.disown(); // it stopped by itself; placement will start a new one
      }
      return;
    }
    cf.reportedCheckpoint = Math.max(cf.reportedCheckpoint, status.getCheckpointTs());
    cf.drainProgress = status.getDrainProgress();
    cf.blockers = status.getBlockersList();
    cf.resolvedTs = status.getResolvedTs();
    if (bootstrapped && cf.reportedCheckpoint > cf.record.status().getCheckpointTs()) {
      // Not only at the next tick: the persisted checkpoint is what users read as the changefeed's lag.
      persistCheckpointsSoon();
    }
    if (status.getErrorsCount() > 0) {
      onMaintainerError(cf, status.getErrors(0));
    } else if (cf.state() == ChangefeedState.CHANGEFEED_STATE_WARNING && cf.reportedCheckpoint > cf.record.status().getCheckpointTs()) {
      recoverFromWarning(cf);
    }
  }

  /**
   * Feeds the status to the changefeed's operator; when that makes its next step due (a move's origin
   * confirmed its stop, so the destination's add is next), the step is sent now rather than at the next
   * resend: a drain moves maintainers one confirmation apart, not one resend interval apart.
   */
  private boolean advanceOperator(ChangefeedId id, NodeId from, MaintainerStatus status) {
    Optional<MaintainerOperator> op = operators.get(id);
    List<Outbound> before = op.map(MaintainerOperator::messages).orElse(List.of());
    boolean operated = operators.onStatus(id, from, status);
    op.map(MaintainerOperator::messages).filter(after -> !after.isEmpty() && !after.equals(before)).ifPresent(after -> after.forEach(this::send));
    return operated;
  }

  private static boolean active(MaintainerStatus s) {
    return !MaintainerOperator.stopped(s);
  }

  private void removeStale(NodeId node, ChangefeedId id, long epoch) {
    StaleMaintainer key = new StaleMaintainer(node, id, epoch);
    if (staleMaintainers.containsKey(key) || !nodes.contains(node)) {
      return;
    }
    // Cascading is safe: dispatcher managers already owned by a newer epoch acknowledge without closing.
    RemoveMaintainerRequest request = RemoveMaintainerRequest.newBuilder()
        .setElectionVersion(electionVersion).setChangefeedId(id.value()).setCascade(true)
        .setRemoved(!changefeeds.containsKey(id)).setEpoch(epoch).build();
    staleMaintainers.put(key, request);
    Meters.counter(metrics, "feedline.coordinator.stale_maintainer_removals", "Maintainers of an older epoch the coordinator removed").increment();
    LOG.info("event=remove_stale_maintainer changefeed={} node={} epoch={}", id, node, Epochs.format(epoch));
    send(new Outbound(node, Role.MAINTAINER_MANAGER, request));
  }

  // ---- operators --------------------------------------------------------------------------------------

  private void onOperatorFinished(MaintainerOperator op) {
    MaintainerOperator.Outcome outcome = op.outcome().orElseThrow();
    operatorsFinished(op.getClass().getSimpleName(), outcome).increment();
    Long startedAt = operatorStartedMillis.remove(op);
    if (startedAt != null) {
      operatorDuration(op.getClass().getSimpleName(), outcome).record(Math.max(0, clock.nowMillis() - startedAt), TimeUnit.MILLISECONDS);
    }
    LOG.info("event=operator_finished op={} outcome={}", op, outcome);
    Changefeed cf = changefeeds.get(op.changefeed());
    if (cf == null) {
      return;
    }
    switch (outcome) {
      case SUCCEEDED -> {
        if (op instanceof StopChangefeed stop) {
          cf.disown();
          completeStop(cf, stop.removed());
        } else {
          cf.adopt(op.destination().orElseThrow(), op.epoch());
        }
      }
      case DESTINATION_LOST, NODE_LOST -> cf.disown();
      case REJECTED -> {
        cf.disown();
        onMaintainerError(cf, RunningError.newBuilder().setNodeId(op.destination().map(NodeId::value).orElse(""))
            .setCode("maintainer_rejected").setMessage(op.error()).setTimeMs(clock.nowMillis()).build());
      }
    }
  }

  private void send(Outbound message) {
    outbox.accept(message);
  }

  private CoordinatorBootstrapRequest bootstrapRequest() {
    return CoordinatorBootstrapRequest.newBuilder().setElectionVersion(electionVersion).build();
  }

  private void sendBootstraps() {
    for (NodeId node : unacknowledged) {
      send(new Outbound(node, Role.MAINTAINER_MANAGER, bootstrapRequest()));
    }
  }

  /**
   * Nodes a maintainer may be placed on: obeying this coordinator, alive, not drained, and (during a
   * drain) aware of the target, so nothing they host lands on the drained node.
   */
  private List<NodeId> schedulableNodes() {
    return nodes.stream().filter(n -> !unacknowledged.contains(n) && drain.isDestination(n)).toList();
  }

  private AddMaintainerRequest addRequest(ChangefeedRecord record, boolean isNew) {
    return AddMaintainerRequest.newBuilder()
        .setElectionVersion(electionVersion)
        .setChangefeedId(record.info().getId())
        // The config travels as the latest persisted info, epoch included.
        .setConfig(record.info().toByteString())
        .setCheckpointTs(record.status().getCheckpointTs())
        .setIsNew(isNew)
        .setEpoch(record.epoch())
        .build();
  }

  private void placeAbsent(long now) {
    List<NodeId> schedulable = schedulableNodes();
    if (schedulable.isEmpty()) {
      return;
    }
    List<ChangefeedId> absent = changefeeds.values().stream()
        .filter(cf -> cf.owner() == null && !cf.writing() && !operators.busy(cf.id()) && cf.wantsMaintainer(now))
        .map(Changefeed::id).toList();
    if (absent.isEmpty()) {
      return;
    }
    Map<NodeId, Integer> load = load(schedulable);
    Map<ChangefeedId, NodeId> placement = BasicScheduler.place(absent, load, settings.scheduleBatch());
    placement.keySet().forEach(operators::reserve);
    bumpThen(placement.keySet(), (cf, record) -> {
      NodeId dest = placement.get(cf.id());
      if (!nodes.contains(dest) || !cf.wantsMaintainer(clock.nowMillis())) {
        return Optional.empty();
      }
      return Optional.of(new AddMaintainer(dest, addRequest(record, record.status().getCheckpointTs() == record.info().getStartTs())));
    });
  }

  /**
   * Persists a new epoch for every reserved changefeed in as few transactions as possible, then, on this
   * context, updates memory from what was persisted (even if the operator is then not pushed) and pushes
   * the operator {@code build} makes — or releases the slot.
   */
  private void bumpThen(Set<ChangefeedId> ids, OperatorFactory build) {
    if (ids.isEmpty()) {
      return;
    }
    timestamps.get()
        .compose(candidate -> store.bumpAll(ids.stream().map(id -> EpochBump.of(id, candidate)).toList()))
        .onSuccess(results -> {
          for (ChangefeedStore.BumpResult result : results) {
            Changefeed cf = changefeeds.get(result.id());
            if (!result.succeeded() || cf == null) {
              operators.release(result.id());
              if (!result.succeeded()) {
                LOG.warn("event=epoch_bump_failed changefeed={} reason={} error=\"{}\"", result.id(), result.error().reason(), result.error().getMessage());
              }
              continue;
            }
            // Memory always takes the persisted epoch, whatever happens to the operator.
            cf.record = result.record();
            Optional<MaintainerOperator> op = build.create(cf, result.record());
            if (op.isEmpty()) {
              operators.release(result.id());
              continue;
            }
            operatorsStarted(op.get().getClass().getSimpleName()).increment();
            operators.push(op.get()).ifPresentOrElse(first -> {
                  operatorStartedMillis.put(op.get(), clock.nowMillis());
                  first.forEach(this::send);
                },
                () -> LOG.info("event=operator_rejected op={} reason=slot_taken", op.get()));
          }
        })
        .onFailure(err -> {
          ids.forEach(operators::release);
          LOG.warn("event=epoch_bump_failed changefeeds={} error=\"{}\"", ids.size(), err.toString());
        });
  }

  @FunctionalInterface
  private interface OperatorFactory {
    /** Called with the changefeed and its freshly bumped record; empty when the operator is no longer wanted. */
    Optional<MaintainerOperator> create(Changefeed cf, ChangefeedRecord bumped);
  }

  private Map<NodeId, Integer> load(List<NodeId> schedulable) {
    Map<NodeId, Integer> load = new TreeMap<>();
    schedulable.forEach(n -> load.put(n, 0));
    changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        load.computeIfPresent(cf.owner(), (n, c) -> c + 1);
      }
    });
    operators.inFlightDestinations().forEach(n -> load.computeIfPresent(n, (x, c) -> c + 1));
    return load;
  }

  private void balance() {
    List<NodeId> schedulable = schedulableNodes();
    long now = clock.nowMillis();
    boolean unsettled = operators.size() > 0
        || changefeeds.values().stream().anyMatch(cf -> cf.owner() == null && cf.wantsMaintainer(now));
    if (unsettled || schedulable.size() < 2) {
      return;
    }
    Map<NodeId, List<ChangefeedId>> byNode = new TreeMap<>();
    schedulable.forEach(n -> byNode.put(n, new ArrayList<>()));
    changefeeds.values().stream().filter(cf -> cf.owner() != null && byNode.containsKey(cf.owner()) && !cf.stopping())
        .forEach(cf -> byNode.get(cf.owner()).add(cf.id()));
    for (BalanceScheduler.Move m : BalanceScheduler.balance(byNode, settings.balanceMoves())) {
      move(m.changefeed(), m.to());
    }
  }

  /** Starts moving a running changefeed's maintainer to {@code dest}. Returns false if it cannot move now. */
  private boolean move(ChangefeedId id, NodeId dest) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null || cf.owner() == null || cf.owner().equals(dest) || !schedulableNodes().contains(dest) || !operators.reserve(id)) {
      return false;
    }
    NodeId origin = cf.owner();
    long originEpoch = cf.epoch();
    // The bump makes the origin stale at once; the move itself stops it with its own epoch.
    bumpThen(Set.of(id), (c, record) -> nodes.contains(origin) && nodes.contains(dest)
        ? Optional.of(new MoveMaintainer(origin, originEpoch, dest, addRequest(record, false)))
        : Optional.empty());
    return true;
  }

  private void driveStops() {
    for (Changefeed cf : changefeeds.values()) {
      if (!cf.stopping() || cf.writing() || operators.busy(cf.id())) {
        continue;
      }
      boolean removed = cf.progress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING;
      if (cf.owner() != null && nodes.contains(cf.owner())) {
        operators.reserve(cf.id());
        StopChangefeed stop = new StopChangefeed(cf.owner(), electionVersion, cf.id(), cf.epoch(), removed);
        operators.push(stop).ifPresent(m -> {
          operatorStartedMillis.put(stop, clock.nowMillis());
          m.forEach(this::send);
        });
        continue;
      }
      // Nobody runs it (or its node is gone): a newer epoch, then a remove-only maintainer on a live node
      // closes every dispatcher manager, fenced above every older owner.
      List<NodeId> live = schedulableNodes();
      if (live.isEmpty()) {
        continue;
      }
      NodeId target = live.get(Math.floorMod(cf.id().hashCode(), live.size()));
      operators.reserve(cf.id());
      bumpThen(Set.of(cf.id()), (c, record) -> c.stopping() && nodes.contains(target)
          ? Optional.of(new StopChangefeed(target, electionVersion, c.id(), record.epoch(), removed))
          : Optional.empty());
    }
  }

  private void completeStop(Changefeed cf, boolean removed) {
    if (removed) {
      cf.beginWrite();
      store.delete(cf.record).onComplete(ar -> {
        if (ar.succeeded()) {
          changefeeds.remove(cf.id());
          LOG.info("event=changefeed_removed changefeed={}", cf.id());
        } else {
          refresh(cf);
        }
        cf.endWrite();
      });
      return;
    }
    mutate(cf.id(), r -> r.status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_NONE ? Future.succeededFuture(r)
        : store.writeStatus(r, r.status().toBuilder().setProgress(ChangefeedProgress.CHANGEFEED_PROGRESS_NONE).build()))
        .onSuccess(r -> LOG.info("event=changefeed_stopped changefeed={} state={}", cf.id(), r.info().getState()));
  }

  // ---- drain ------------------------------------------------------------------------------------------

  /**
   * Maintainers leave the drain target first: up to {@code DrainConcurrency.limit} moves at once, to the
   * least-loaded destinations (which have all acknowledged the target, so they will not place dispatchers
   * back on it).
   */
  private void moveOffDrainTarget() {
    NodeId target = drain.target().node();
    drainMoves.removeIf(id -> !operators.busy(id));
    if (target == null || !bootstrapped) {
      return;
    }
    List<ChangefeedId> onTarget = changefeeds.values().stream()
        .filter(cf -> target.equals(cf.owner()) && !cf.writing() && !cf.stopping() && !operators.busy(cf.id()))
        .map(Changefeed::id).toList();
    int allowed = drain.movesAllowed(onTarget.size(), drainMoves.size());
    List<NodeId> destinations = schedulableNodes();
    if (onTarget.isEmpty() || allowed == 0 || destinations.isEmpty()) {
      return;
    }
    BasicScheduler.place(onTarget, load(destinations), allowed).forEach((id, dest) -> {
      if (move(id, dest)) {
        drainMoves.add(id);
      }
    });
  }

  /** What is left of the current drain (zeros when none runs). */
  private DrainController.Progress drainProgress() {
    NodeDrainTarget target = drain.target();
    if (!target.active()) {
      return DrainController.Progress.NONE;
    }
    NodeId node = target.node();
    DrainTarget current = target.toProto();
    long now = clock.nowMillis();
    long maintainers = 0;
    long dispatchers = 0;
    long moves = 0;
    long notAcknowledging = 0;
    for (Changefeed cf : changefeeds.values()) {
      Optional<MaintainerOperator> op = operators.get(cf.id());
      boolean onTarget = node.equals(cf.owner()) || op.map(o -> o.runsOn(node)).orElse(false);
      if (onTarget) {
        maintainers++;
        continue;
      }
      DrainProgress progress = cf.drainProgress;
      if (cf.owner() != null && progress != null && progress.getTarget().equals(current)) {
        dispatchers += progress.getDispatchersOnTarget();
        moves += progress.getDrainMovesInFlight();
      } else if (cf.owner() != null || op.isPresent() || cf.wantsMaintainer(now)) {
        // Running (or about to) without having reported this target: it may still place dispatchers on it.
        notAcknowledging++;
      }
    }
    // Maintainer moves off the target, counted from the reservation (the epoch bump) on.
    moves += drainMoves.stream().filter(operators::busy).count();
    return new DrainController.Progress(maintainers, dispatchers, moves, notAcknowledging);
  }

  /** The answer to a drain request: what is left, or that this coordinator must hand over its leadership first. */
  public record DrainReply(long remaining, boolean resignFirst) {}

  /**
   * Starts draining {@code node} if it is not being drained yet, and answers how much is left; callable
   * repeatedly. Refused for an unknown node, the last live node, or while another node is drained.
   */
  public Future<DrainReply> drain(NodeId node) {
    DrainController.Check check = drain.check(node, self);
    if (check instanceof DrainController.Check.Refused refused) {
      Reason reason = refused.reason() == DrainController.Check.Reason.UNKNOWN_NODE ? Reason.NOT_FOUND : Reason.FAILED_PRECONDITION;
      return Future.failedFuture(new CoordinatorException(reason, refused.message()));
    }
    if (check instanceof DrainController.Check.ResignFirst) {
      LOG.info("event=drain_needs_resign node={} election_version={}", node, electionVersion);
      return Future.succeededFuture(new DrainReply(-1, true));
    }
    if (check instanceof DrainController.Check.InProgress) {
      return Future.succeededFuture(new DrainReply(drainProgress().remaining(), false));
    }
    return timestamps.get().compose(epoch -> {
      // Another request may have started it while the oracle answered.
      DrainController.Check again = drain.check(node, self);
      if (again instanceof DrainController.Check.Start) {
        drain.start(node, epoch).forEach(this::send);
        Meters.counter(metrics, "feedline.coordinator.drains.started", "Node drains the coordinator started").increment();
      } else if (!(again instanceof DrainController.Check.InProgress)) {
        return drain(node);
      }
      return Future.succeededFuture(new DrainReply(drainProgress().remaining(), false));
    });
  }

  /** The drain under way, and what is left of it. */
  public Optional<Map.Entry<NodeId, Long>> drainStatus() {
    NodeDrainTarget target = drain.target();
    return target.active() ? Optional.of(Map.entry(target.node(), drainProgress().remaining())) : Optional.empty();
  }

  /** Every live node as it last reported itself, with the liveness the coordinator shows for it. */
  public Map<NodeId, DrainController.NodeReport> nodeReports() {
    Map<NodeId, DrainController.NodeReport> out = new TreeMap<>();
    drain.reports().forEach((node, r) -> out.put(node, new DrainController.NodeReport(
        new io.feedline.common.drain.NodeLivenessState(drain.livenessOf(node)), r.nodeEpoch(), r.acknowledged(), r.dispatchers(),
        r.metastoreUnreachableSinceMs())));
    return out;
  }

  // ---- errors, warning and retry ----------------------------------------------------------------------

  private void onMaintainerError(Changefeed cf, RunningError error) {
    if (cf.writing() || (cf.state() != ChangefeedState.CHANGEFEED_STATE_NORMAL && cf.state() != ChangefeedState.CHANGEFEED_STATE_WARNING)) {
      return;
    }
    long now = clock.nowMillis();
    if (cf.warningSince == 0) {
      cf.warningSince = now;
    }
    boolean failed = now - cf.warningSince >= settings.failedAfter().toMillis();
    cf.backoffMillis = cf.backoffMillis == 0 ? settings.retryInitial().toMillis()
        : Math.min(cf.backoffMillis * 2, settings.retryMax().toMillis());
    cf.retryAt = now + cf.backoffMillis;
    ChangefeedState next = failed ? ChangefeedState.CHANGEFEED_STATE_FAILED : ChangefeedState.CHANGEFEED_STATE_WARNING;
    LOG.warn("event=changefeed_error changefeed={} state={} retry_in_ms={} code={} error=\"{}\"", cf.id(), next,
        failed ? -1 : cf.backoffMillis, error.getCode(), error.getMessage());
    // Through the bump: the erroring maintainer's epoch becomes stale, so it is removed with its own
    // epoch, and the retry (after the backoff) starts a new owner above it.
    cf.beginWrite();
    timestamps.get()
        .compose(candidate -> store.bump(EpochBump.of(cf.id(), candidate).withState(next, error)))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            cf.record = ar.result();
          } else {
            refresh(cf);
          }
          cf.endWrite();
        });
  }

  private void recoverFromWarning(Changefeed cf) {
    mutate(cf.id(), r -> r.info().getState() != ChangefeedState.CHANGEFEED_STATE_WARNING ? Future.succeededFuture(r)
        : store.writeInfo(r, r.info().toBuilder().setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).clearError().build()))
        .onSuccess(r -> {
          cf.warningSince = 0;
          cf.backoffMillis = 0;
          LOG.info("event=changefeed_recovered changefeed={}", cf.id());
        });
  }

  // ---- checkpoints ------------------------------------------------------------------------------------

  /** Persists the moved checkpoints now, or once the batch in flight is done and the interval has passed. */
  private void persistCheckpointsSoon() {
    if (!started) {
      return;
    }
    if (persistingCheckpoints || checkpointTimer != null) {
      checkpointsPending = true;
      return;
    }
    long wait = lastCheckpointPersistAt + CHECKPOINT_PERSIST_INTERVAL_MS - clock.nowMillis();
    if (wait <= 0) {
      persistCheckpoints();
      return;
    }
    checkpointTimer = clock.schedule(wait, () -> {
      checkpointTimer = null;
      persistCheckpointsSoon();
    });
  }

  private void persistCheckpoints() {
    if (persistingCheckpoints) {
      return;
    }
    lastCheckpointPersistAt = clock.nowMillis();
    checkpointsPending = false;
    List<ChangefeedStore.StatusWrite> writes = new ArrayList<>();
    List<Changefeed> writing = new ArrayList<>();
    List<Changefeed> finished = new ArrayList<>();
    for (Changefeed cf : changefeeds.values()) {
      ChangefeedStatus persisted = cf.record.status();
      if (cf.writing() || cf.reportedCheckpoint <= persisted.getCheckpointTs()) {
        continue;
      }
      writes.add(new ChangefeedStore.StatusWrite(cf.record, persisted.toBuilder().setCheckpointTs(cf.reportedCheckpoint).build()));
      writing.add(cf);
      long target = cf.record.info().getTargetTs();
      if (target != 0 && cf.reportedCheckpoint >= target && cf.state() == ChangefeedState.CHANGEFEED_STATE_NORMAL) {
        finished.add(cf);
      }
    }
    if (writes.isEmpty()) {
      return;
    }
    persistingCheckpoints = true;
    writing.forEach(Changefeed::beginWrite);
    store.writeStatuses(writes).onComplete(ar -> {
      persistingCheckpoints = false;
      Map<ChangefeedId, ChangefeedRecord> written = ar.succeeded() ? ar.result() : Map.of();
      for (Changefeed cf : writing) {
        if (changefeeds.get(cf.id()) == cf) {
          ChangefeedRecord r = written.get(cf.id());
          if (r != null) {
            cf.statusWritten(r);
          } else {
            refresh(cf);
          }
        }
        // Even for a changefeed dropped meanwhile: what is queued behind this write must not wait for ever.
        cf.endWrite();
      }
      finished.forEach(cf -> setState(cf.id(), ChangefeedState.CHANGEFEED_STATE_FINISHED, ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING));
      if (checkpointsPending) {
        persistCheckpointsSoon();
      }
    });
  }

  /** Re-reads a changefeed after a lost compare-and-set, so the next write compares the right revisions. */
  private void refresh(Changefeed cf) {
    store.load(cf.id()).onSuccess(r -> r.ifPresentOrElse(x -> cf.record = x, () -> changefeeds.remove(cf.id())));
  }

  /**
   * Applies {@code change} to the changefeed's latest record, re-reading and retrying after a lost
   * compare-and-set (a concurrent checkpoint write), bounded.
   */
  private Future<ChangefeedRecord> mutate(ChangefeedId id, Function<ChangefeedRecord, Future<ChangefeedRecord>> change) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (cf.writing()) {
      // Queued behind the write in flight (a checkpoint batch, an epoch bump, another admin call), never
      // refused for it: one changefeed's writes are serialized, each against the revisions the last left.
      return cf.writeEnded().compose(v -> mutate(id, change));
    }
    cf.beginWrite();
    return attemptMutate(cf, change, 1).onComplete(ar -> cf.endWrite());
  }

  private Future<ChangefeedRecord> attemptMutate(Changefeed cf, Function<ChangefeedRecord, Future<ChangefeedRecord>> change, int attempt) {
    return change.apply(cf.record).map(r -> {
      cf.record = r;
      return r;
    }).recover(err -> {
      if (err instanceof ChangefeedStoreException e && e.reason() == ChangefeedStoreException.Reason.CONFLICT && attempt < ADMIN_WRITE_ATTEMPTS) {
        return store.load(cf.id()).compose(fresh -> {
          if (fresh.isEmpty()) {
            return Future.failedFuture(notFound(cf.id()));
          }
          cf.record = fresh.get();
          return attemptMutate(cf, change, attempt + 1);
        });
      }
      return Future.failedFuture(err);
    });
  }

  private Future<ChangefeedRecord> setState(ChangefeedId id, ChangefeedState state, ChangefeedProgress progress) {
    return mutate(id, r -> store.writeInfoAndStatus(r, r.info().toBuilder().setState(state).build(),
        r.status().toBuilder().setProgress(progress).build()));
  }

  // ---- admin operations -------------------------------------------------------------------------------

  /** Creates a changefeed; it is placed by the next scheduling round. {@code startTs} 0 = now. */
  public Future<ChangefeedRecord> create(ChangefeedInfo requested) {
    if (!ChangefeedId.isValid(requested.getId())) {
      return Future.failedFuture(new CoordinatorException(Reason.INVALID_ARGUMENT, "invalid changefeed id '" + requested.getId() + "'"));
    }
    ChangefeedId id = ChangefeedId.of(requested.getId());
    if (changefeeds.containsKey(id)) {
      return Future.failedFuture(new CoordinatorException(Reason.ALREADY_EXISTS, "changefeed " + id + " already exists"));
    }
    Future<Long> startTs = requested.getStartTs() != 0 ? Future.succeededFuture(requested.getStartTs()) : timestamps.get();
    return startTs.compose(ts -> {
      ChangefeedInfo info = requested.toBuilder().setStartTs(ts).setState(ChangefeedState.CHANGEFEED_STATE_NORMAL)
          .setEpoch(Epochs.COMPAT).setCreateTimeMs(clock.nowMillis()).build();
      return store.create(info, ChangefeedStatus.newBuilder().setCheckpointTs(ts).build());
    }).recover(err -> Future.failedFuture(err instanceof ChangefeedStoreException e && e.reason() == ChangefeedStoreException.Reason.ALREADY_EXISTS
        ? new CoordinatorException(Reason.ALREADY_EXISTS, e.getMessage()) : err))
        .onSuccess(r -> {
          changefeeds.putIfAbsent(r.id(), new Changefeed(r));
          LOG.info("event=changefeed_created changefeed={} start_ts={}", id, r.info().getStartTs());
        });
  }

  /** Pauses: stopped + stopping persisted together, then the maintainer is removed (cascading). */
  public Future<ChangefeedRecord> pause(ChangefeedId id) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (cf.stopping() || cf.state() == ChangefeedState.CHANGEFEED_STATE_STOPPED || cf.state() == ChangefeedState.CHANGEFEED_STATE_FINISHED) {
      return Future.succeededFuture(cf.record); // idempotent
    }
    return setState(id, ChangefeedState.CHANGEFEED_STATE_STOPPED, ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING);
  }

  /** Resumes a stopped, failed or warning changefeed: normal, error cleared, epoch bumped, in one transaction. */
  public Future<ChangefeedRecord> resume(ChangefeedId id, long overwriteCheckpointTs) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (cf.stopping()) {
      return Future.failedFuture(new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " is still stopping; retry"));
    }
    if (cf.state() == ChangefeedState.CHANGEFEED_STATE_NORMAL) {
      return Future.succeededFuture(cf.record);
    }
    if (cf.owner() != null || operators.busy(id)) {
      return Future.failedFuture(new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " still has a maintainer; retry"));
    }
    long checkpoint = overwriteCheckpointTs != 0 ? overwriteCheckpointTs : cf.record.status().getCheckpointTs();
    return mutate(id, r -> timestamps.get().compose(candidate -> store.bump(EpochBump.resume(id, candidate, checkpoint))))
        .onSuccess(r -> {
          cf.reportedCheckpoint = r.status().getCheckpointTs();
          cf.warningSince = 0;
          cf.backoffMillis = 0;
          cf.retryAt = 0;
        });
  }

  /** Removes: removing persisted, maintainer removed with cascade, then both records deleted. */
  public Future<ChangefeedRecord> remove(ChangefeedId id) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (cf.progress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING) {
      return Future.succeededFuture(cf.record);
    }
    return mutate(id, r -> store.writeStatus(r, r.status().toBuilder().setProgress(ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING).build()));
  }

  /** Changes the sink, target or options of a stopped changefeed. */
  public Future<ChangefeedRecord> update(ChangefeedId id, Function<ChangefeedInfo, ChangefeedInfo> change) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (cf.state() != ChangefeedState.CHANGEFEED_STATE_STOPPED || cf.stopping()) {
      return Future.failedFuture(new CoordinatorException(Reason.FAILED_PRECONDITION, "changefeed " + id + " must be paused (and fully stopped) to be updated"));
    }
    return mutate(id, r -> store.writeInfo(r, change.apply(r.info())));
  }

  /** Moves a running changefeed's maintainer to {@code dest}. */
  public Future<Void> moveMaintainer(ChangefeedId id, NodeId dest) {
    Changefeed cf = changefeeds.get(id);
    if (cf == null) {
      return Future.failedFuture(notFound(id));
    }
    if (!schedulableNodes().contains(dest)) {
      return Future.failedFuture(new CoordinatorException(Reason.INVALID_ARGUMENT, "node " + dest + " is not a live, schedulable node"));
    }
    return move(id, dest) ? Future.succeededFuture()
        : Future.failedFuture(new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " cannot move now (no running maintainer, already there, or busy)"));
  }

  public Optional<ChangefeedRecord> query(ChangefeedId id) {
    return Optional.ofNullable(changefeeds.get(id)).map(cf -> cf.record);
  }

  /** What the changefeed's maintainer last said holds its checkpoint back and where its source has got to. */
  public CheckpointReport checkpointReport(ChangefeedId id) {
    Changefeed cf = changefeeds.get(id);
    return cf == null || cf.owner() == null ? CheckpointReport.NONE : new CheckpointReport(cf.blockers, cf.resolvedTs);
  }

  public List<ChangefeedRecord> list() {
    return changefeeds.values().stream().map(cf -> cf.record).toList();
  }

  /**
   * For every node that hosts maintainers: when its maintainer manager last sent a heartbeat (the start of
   * this term if it has not yet). Nodes without maintainers send none, so they are left out.
   */
  public Map<NodeId, Long> lastHeartbeats() {
    Map<NodeId, Long> out = new HashMap<>();
    changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        out.put(cf.owner(), lastHeartbeatMillis.getOrDefault(cf.owner(), startedMillis));
      }
    });
    return out;
  }

  /** The node of each changefeed's adopted maintainer (absent ones left out). */
  public Map<ChangefeedId, NodeId> maintainers() {
    Map<ChangefeedId, NodeId> out = new HashMap<>();
    changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        out.put(cf.id(), cf.owner());
      }
    });
    return out;
  }

  public boolean bootstrapped() {
    return bootstrapped;
  }

  public int operatorCount() {
    return operators.size();
  }

  private static CoordinatorException notFound(ChangefeedId id) {
    return new CoordinatorException(Reason.NOT_FOUND, "changefeed " + id + " does not exist");
  }
}
