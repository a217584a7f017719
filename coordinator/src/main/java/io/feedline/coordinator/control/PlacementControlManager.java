package io.feedline.coordinator.control;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.feedline.common.simulation.ProtocolMutation;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.EpochBump;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.coordinator.operator.AddMaintainer;
import io.feedline.coordinator.operator.MaintainerOperator;
import io.feedline.coordinator.operator.MoveMaintainer;
import io.feedline.coordinator.operator.StopChangefeed;
import io.feedline.coordinator.scheduler.BalanceScheduler;
import io.feedline.coordinator.scheduler.BasicScheduler;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where maintainers run (DESIGN §5): placement of changefeeds without one, balance, moves, and the operators
 * that carry them out, each started only once its new epoch is persisted; and the removal of maintainers
 * nobody owns any more, with their own epoch, re-sent until confirmed.
 */
final class PlacementControlManager {

  private static final Logger LOG = LoggerFactory.getLogger(PlacementControlManager.class);
  /** Every operator kind, so that their counters exist before the first operator runs. */
  private static final List<String> OPERATOR_KINDS = List.of(AddMaintainer.class.getSimpleName(), MoveMaintainer.class.getSimpleName(),
      StopChangefeed.class.getSimpleName());

  private record StaleMaintainer(NodeId node, ChangefeedId changefeed, long epoch) {}

  private final CoordinatorState state;
  private final ChangefeedWrites writes;
  /** Maintainers told to remove themselves with their own epoch, re-sent until confirmed. */
  private final Map<StaleMaintainer, RemoveMaintainerRequest> staleMaintainers = new LinkedHashMap<>();
  /** When each running operator was pushed, for its duration when it finishes. */
  private final Map<MaintainerOperator, Long> operatorStartedMillis = new IdentityHashMap<>();
  private long lastBalanceAt;

  PlacementControlManager(CoordinatorState state, ChangefeedWrites writes) {
    this.state = state;
    this.writes = writes;
    this.lastBalanceAt = state.now();
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
    return Meters.counter(state.metrics, "feedline.coordinator.operators.started", "Coordinator operators started, by kind", "kind", kind);
  }

  private Counter operatorsFinished(String kind, MaintainerOperator.Outcome outcome) {
    return Meters.counter(state.metrics, "feedline.coordinator.operators.finished", "Coordinator operators that finished, by kind and outcome",
        "kind", kind, "outcome", outcome.name().toLowerCase(Locale.ROOT));
  }

  private Timer operatorDuration(String kind, MaintainerOperator.Outcome outcome) {
    return Timer.builder("feedline.coordinator.operator.duration").description("From an operator's start to its outcome")
        .tags("kind", kind, "outcome", outcome.name().toLowerCase(Locale.ROOT)).register(state.metrics);
  }

  int staleCount() {
    return staleMaintainers.size();
  }

  /** The resend interval passed: what no reply confirmed yet goes again. */
  void resend(CoordinatorEffects.Builder out) {
    out.sendAll(state.operators.pendingMessages());
    staleMaintainers.forEach((stale, request) -> out.send(new Outbound(stale.node(), Role.MAINTAINER_MANAGER, request)));
  }

  void onNodeLeft(NodeId node) {
    state.operators.onNodeRemoved(node);
    staleMaintainers.keySet().removeIf(s -> s.node().equals(node));
  }

  /** A maintainer said it stopped: its removal, if one was asked, is confirmed. Returns whether one was. */
  boolean onStopped(NodeId from, ChangefeedId id, long epoch) {
    return staleMaintainers.remove(new StaleMaintainer(from, id, epoch)) != null;
  }

  /** Tells the maintainer of {@code id} at {@code epoch} on {@code node} to remove itself (and its dispatchers), until it confirms. */
  void removeStale(NodeId node, ChangefeedId id, long epoch, CoordinatorEffects.Builder out) {
    StaleMaintainer key = new StaleMaintainer(node, id, epoch);
    if (staleMaintainers.containsKey(key) || !state.nodes.contains(node)) {
      return;
    }
    // Cascading is safe: dispatcher managers already owned by a newer epoch acknowledge without closing.
    RemoveMaintainerRequest request = RemoveMaintainerRequest.newBuilder()
        .setElectionVersion(state.electionVersion).setChangefeedId(id.value()).setCascade(true)
        .setRemoved(!state.changefeeds.containsKey(id)).setEpoch(epoch).build();
    staleMaintainers.put(key, request);
    Meters.counter(state.metrics, "feedline.coordinator.stale_maintainer_removals", "Maintainers of an older epoch the coordinator removed").increment();
    LOG.info("event=remove_stale_maintainer changefeed={} node={} epoch={}", id, node, Epochs.format(epoch));
    out.send(new Outbound(node, Role.MAINTAINER_MANAGER, request));
  }

  /**
   * Feeds the status to the changefeed's operator; when that makes its next step due (a move's origin
   * confirmed its stop, so the destination's add is next), the step is sent now rather than at the next
   * resend: a drain moves maintainers one confirmation apart, not one resend interval apart.
   */
  boolean advanceOperator(ChangefeedId id, NodeId from, MaintainerStatus status, CoordinatorEffects.Builder out) {
    Optional<MaintainerOperator> op = state.operators.get(id);
    List<Outbound> before = op.map(MaintainerOperator::messages).orElse(List.of());
    boolean operated = state.operators.onStatus(id, from, status);
    op.map(MaintainerOperator::messages).filter(after -> !after.isEmpty() && !after.equals(before)).ifPresent(out::sendAll);
    return operated;
  }

  /** Operators that finished since the last tick (counted and timed here; their effect on ownership is the caller's). */
  List<MaintainerOperator> takeFinished() {
    List<MaintainerOperator> finished = state.operators.takeFinished();
    for (MaintainerOperator op : finished) {
      MaintainerOperator.Outcome outcome = op.outcome().orElseThrow();
      operatorsFinished(op.getClass().getSimpleName(), outcome).increment();
      Long startedAt = operatorStartedMillis.remove(op);
      if (startedAt != null) {
        operatorDuration(op.getClass().getSimpleName(), outcome).record(Math.max(0, state.now() - startedAt), TimeUnit.MILLISECONDS);
      }
      LOG.info("event=operator_finished op={} outcome={}", op, outcome);
    }
    return finished;
  }

  /** Starts {@code op} in its changefeed's slot (reserved by the caller) and sends its first messages. */
  void push(MaintainerOperator op, CoordinatorEffects.Builder out) {
    operatorsStarted(op.getClass().getSimpleName()).increment();
    state.operators.push(op).ifPresentOrElse(first -> {
      operatorStartedMillis.put(op, state.now());
      out.sendAll(first);
    }, () -> LOG.info("event=operator_rejected op={} reason=slot_taken", op));
  }

  void placeAbsent(CoordinatorEffects.Builder out) {
    List<NodeId> schedulable = state.schedulableNodes();
    if (schedulable.isEmpty()) {
      return;
    }
    long now = state.now();
    List<ChangefeedId> absent = state.changefeeds.values().stream()
        .filter(cf -> cf.owner() == null && !cf.writing() && !state.operators.busy(cf.id()) && cf.wantsMaintainer(now))
        .map(Changefeed::id).toList();
    if (absent.isEmpty()) {
      return;
    }
    Map<ChangefeedId, NodeId> placement = BasicScheduler.place(absent, load(schedulable), state.settings.scheduleBatch());
    bump(new Pending.BumpPurpose.Place(placement), out);
  }

  /** Balances maintainers over the schedulable nodes when the balance interval has passed and nothing is unsettled. */
  void balanceIfDue(CoordinatorEffects.Builder out) {
    long now = state.now();
    if (now - lastBalanceAt < state.settings.balanceInterval().toMillis()) {
      return;
    }
    lastBalanceAt = now;
    if (state.drain.balancePaused()) {
      return;
    }
    List<NodeId> schedulable = state.schedulableNodes();
    boolean unsettled = state.operators.size() > 0
        || state.changefeeds.values().stream().anyMatch(cf -> cf.owner() == null && cf.wantsMaintainer(now));
    if (unsettled || schedulable.size() < 2) {
      return;
    }
    Map<NodeId, List<ChangefeedId>> byNode = new TreeMap<>();
    schedulable.forEach(n -> byNode.put(n, new ArrayList<>()));
    state.changefeeds.values().stream().filter(cf -> cf.owner() != null && byNode.containsKey(cf.owner()) && !cf.stopping())
        .forEach(cf -> byNode.get(cf.owner()).add(cf.id()));
    for (BalanceScheduler.Move m : BalanceScheduler.balance(byNode, state.settings.balanceMoves())) {
      move(m.changefeed(), m.to(), out);
    }
  }

  /** Starts moving a running changefeed's maintainer to {@code dest}. Returns false if it cannot move now. */
  boolean move(ChangefeedId id, NodeId dest, CoordinatorEffects.Builder out) {
    Changefeed cf = state.changefeeds.get(id);
    if (cf == null || cf.owner() == null || cf.owner().equals(dest) || !state.schedulableNodes().contains(dest) || state.operators.busy(id)) {
      return false;
    }
    if (ProtocolMutation.SKIP_EPOCH_BUMP.on()) {
      // The simulator's deliberate bug: the destination starts at the origin's epoch, nothing persisted first.
      push(new MoveMaintainer(cf.owner(), cf.epoch(), dest, state.addRequest(cf.record, false)), out);
      return true;
    }
    // The bump makes the origin stale at once; the move itself stops it with its own epoch.
    bump(new Pending.BumpPurpose.Move(id, cf.owner(), cf.epoch(), dest), out);
    return true;
  }

  /** Nobody runs a changefeed being stopped (or its node is gone): a newer epoch, then a remove-only maintainer on {@code target}. */
  void stopOwnerless(Changefeed cf, NodeId target, CoordinatorEffects.Builder out) {
    bump(new Pending.BumpPurpose.StopOwnerless(cf.id(), target), out);
  }

  /** Places, per node, the maintainers running there and those on their way. */
  Map<NodeId, Integer> load(List<NodeId> schedulable) {
    Map<NodeId, Integer> load = new TreeMap<>();
    schedulable.forEach(n -> load.put(n, 0));
    state.changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        load.computeIfPresent(cf.owner(), (n, c) -> c + 1);
      }
    });
    state.operators.inFlightDestinations().forEach(n -> load.computeIfPresent(n, (x, c) -> c + 1));
    return load;
  }

  /**
   * Reserves the operator slots of {@code purpose}'s changefeeds and asks for a timestamp; the epochs are then
   * persisted in as few transactions as possible, and only then do the operators start. A bump may run beside
   * another write of the same changefeed (a checkpoint batch): the store orders them, and memory takes each
   * answer key by key by revision ({@link Changefeed#apply}), so neither undoes the other.
   */
  private void bump(Pending.BumpPurpose purpose, CoordinatorEffects.Builder out) {
    List<Changefeed> bumping = new ArrayList<>();
    for (ChangefeedId id : purpose.ids()) {
      state.operators.reserve(id);
      bumping.add(state.changefeeds.get(id));
    }
    out.requestTimestamp(state.await(new Pending.BumpTimestamp(purpose, bumping)));
  }

  void onBumpTimestamp(Pending.BumpTimestamp p, long timestamp, Throwable error, CoordinatorEffects.Builder out) {
    if (error != null) {
      giveUp(p.purpose(), "no timestamp: " + error);
      return;
    }
    out.call(state.await(new Pending.Bump(p.purpose(), p.bumping())),
        new RegistryOp.BumpAll(p.purpose().ids().stream().map(id -> EpochBump.of(id, timestamp)).toList()));
  }

  /**
   * On the persisted epochs, memory first (even if the operator is then not wanted any more), then the
   * operator {@code purpose} asks for — or the slot is released.
   */
  void onBumped(Pending.Bump p, RegistryResult result, CoordinatorEffects.Builder out) {
    if (!(result instanceof RegistryResult.Bumped bumped)) {
      // Some transactions of the batch may have committed: read every changefeed back.
      p.bumping().forEach(cf -> writes.refresh(cf, out));
      giveUp(p.purpose(), ChangefeedWrites.errorOf(result).toString());
      return;
    }
    Map<ChangefeedId, Changefeed> bumping = new LinkedHashMap<>();
    p.bumping().forEach(cf -> bumping.put(cf.id(), cf));
    for (ChangefeedStore.BumpResult r : bumped.results()) {
      Changefeed cf = bumping.get(r.id());
      if (!r.succeeded() || cf == null || !state.current(cf)) {
        state.operators.release(r.id());
        if (!r.succeeded()) {
          LOG.warn("event=epoch_bump_failed changefeed={} reason={} error=\"{}\"", r.id(), r.error().reason(), r.error().getMessage());
        }
        continue;
      }
      // Memory always takes the persisted epoch, whatever happens to the operator.
      cf.apply(r.record());
      Optional<MaintainerOperator> op = operatorFor(p.purpose(), cf, r.record());
      if (op.isEmpty()) {
        state.operators.release(r.id());
      } else {
        push(op.get(), out);
      }
    }
  }

  private void giveUp(Pending.BumpPurpose purpose, String error) {
    purpose.ids().forEach(state.operators::release);
    LOG.warn("event=epoch_bump_failed changefeeds={} error=\"{}\"", purpose.ids().size(), error);
  }

  /** The operator a bumped changefeed gets; empty when it is no longer wanted (its node left, it is being stopped…). */
  private Optional<MaintainerOperator> operatorFor(Pending.BumpPurpose purpose, Changefeed cf, ChangefeedRecord record) {
    if (purpose instanceof Pending.BumpPurpose.Place place) {
      NodeId dest = place.placement().get(cf.id());
      if (!state.nodes.contains(dest) || !cf.wantsMaintainer(state.now())) {
        return Optional.empty();
      }
      return Optional.of(new AddMaintainer(dest, state.addRequest(record, record.status().getCheckpointTs() == record.info().getStartTs())));
    } else if (purpose instanceof Pending.BumpPurpose.Move move) {
      return state.nodes.contains(move.origin()) && state.nodes.contains(move.dest())
          ? Optional.of(new MoveMaintainer(move.origin(), move.originEpoch(), move.dest(), state.addRequest(record, false)))
          : Optional.empty();
    } else if (purpose instanceof Pending.BumpPurpose.StopOwnerless stop) {
      // Removed or stopped as the records say now: a remove may have come while the bump was persisted.
      return cf.stopping() && state.nodes.contains(stop.target())
          ? Optional.of(new StopChangefeed(stop.target(), state.electionVersion, cf.id(), record.epoch(),
              cf.progress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING))
          : Optional.empty();
    }
    throw new IllegalArgumentException("unknown bump purpose " + purpose);
  }
}
