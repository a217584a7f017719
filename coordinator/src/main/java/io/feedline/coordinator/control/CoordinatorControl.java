package io.feedline.coordinator.control;

import com.google.protobuf.Message;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.feedline.common.time.Scheduler;
import io.feedline.coordinator.CheckpointReport;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.CoordinatorSettings;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.coordinator.operator.MaintainerOperator;
import io.feedline.coordinator.operator.StopChangefeed;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.SetNodeLivenessResponse;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elected coordinator's state machine (DESIGN §5), one per term of leadership, with no I/O: every input
 * (a message, a node joining or leaving, a tick, an admin request, the outcome of a registry call or of a
 * timestamp request) changes memory and returns the {@link CoordinatorEffects} to perform; the runtime
 * ({@code Coordinator}) performs them and feeds their outcomes back. Every decision that needs a new owner
 * persists the epoch first. The work is split by concern the way KRaft splits its control managers:
 * placement (and operators), lifecycle (admin and errors), checkpoints, drain.
 */
public final class CoordinatorControl {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorControl.class);

  private record Reported(NodeId node, MaintainerStatus status) {}

  private record StoppedMaintainer(NodeId node, ChangefeedId changefeed, long epoch) {}

  /** Stopped maintainers whose stale report was counted: a maintainer manager resends one for a while. Bounded. */
  private final Set<StoppedMaintainer> stoppedReported = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<StoppedMaintainer, Boolean> eldest) {
      return size() > 4096;
    }
  });

  private final CoordinatorState state;
  private final ChangefeedWrites writes;
  private final PlacementControlManager placement;
  private final LifecycleControlManager lifecycle;
  private final CheckpointControlManager checkpoints;
  private final DrainControlManager drains;
  private final FenceRejections rejections;
  /** Answers to this term's bootstrap carry its election version; one for another term is not this term's to act on. */
  private final Fence term;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 4096);
  /** The nodes that were alive when this term began: adoption waits for all of them. */
  private final Set<NodeId> awaitingInitial = new HashSet<>();
  private final List<Reported> bootstrapReports = new ArrayList<>();
  /** When each node's maintainer manager was last heard from (a heartbeat); for the heartbeat-age gauge. */
  private final Map<NodeId, Long> lastHeartbeatMillis = new HashMap<>();
  private long startedMillis;
  private long lastResendAt = Long.MIN_VALUE / 2;

  public CoordinatorControl(NodeId self, long electionVersion, Scheduler clock, CoordinatorSettings settings, MeterRegistry metrics) {
    this.state = new CoordinatorState(self, electionVersion, clock, settings, metrics);
    this.writes = new ChangefeedWrites(state);
    this.placement = new PlacementControlManager(state, writes);
    this.lifecycle = new LifecycleControlManager(state, writes, placement);
    this.checkpoints = new CheckpointControlManager(state, writes);
    this.drains = new DrainControlManager(state, placement);
    this.rejections = new FenceRejections("coordinator", metrics, List.of(MaintainerStatus.getDescriptor(), CoordinatorBootstrapResponse.getDescriptor()),
        List.of(NodeHeartbeat.getDescriptor(), SetNodeLivenessResponse.getDescriptor()));
    this.term = Fence.ownedBy(self, electionVersion);
  }

  public long electionVersion() {
    return state.electionVersion;
  }

  /**
   * Runs one input. A bug that throws halfway still returns what was decided before it (the requests already
   * awaited must go out, or what waits for them would wait for ever), and is counted and logged.
   */
  private CoordinatorEffects with(Consumer<CoordinatorEffects.Builder> input) {
    CoordinatorEffects.Builder out = new CoordinatorEffects.Builder();
    try {
      input.accept(out);
    } catch (RuntimeException e) {
      Meters.counter(state.metrics, "feedline.coordinator.input_failures", "Coordinator inputs whose handling failed (a bug)").increment();
      LOG.error("event=coordinator_input_failed election_version={} error=\"{}\"", state.electionVersion, e.toString(), e);
    }
    return out.build();
  }

  // ---- inputs ---------------------------------------------------------------------------------------

  /**
   * The term begins with the nodes live now; the registry is being loaded ({@link #onLoaded}). Nodes that join
   * or leave meanwhile are inputs like any other, so none is waited for after it left.
   */
  public CoordinatorEffects start(Set<NodeId> liveNodes) {
    return with(out -> {
      state.nodes.addAll(liveNodes);
      liveNodes.forEach(state.drain::onNodeJoined);
      awaitingInitial.addAll(liveNodes);
      state.unacknowledged.addAll(liveNodes);
      startedMillis = state.now();
    });
  }

  /** The registry is loaded: the term runs, and every node is asked for its maintainers. */
  public CoordinatorEffects onLoaded(List<ChangefeedRecord> records) {
    return with(out -> {
      if (state.stopped) {
        return;
      }
      records.forEach(r -> state.changefeeds.put(r.id(), new Changefeed(r)));
      state.started = true;
      LOG.info("event=coordinator_started node={} election_version={} changefeeds={} nodes={}", state.self, state.electionVersion,
          records.size(), state.nodes);
      sendBootstraps(out);
    });
  }

  /** The term ended: outcomes still coming back change nothing any more (fencing writes in flight is the store's job). */
  public void stop() {
    state.stopped = true;
  }

  public CoordinatorEffects onMessage(NodeId from, Message payload) {
    return with(out -> {
      if (payload instanceof MaintainerHeartbeat heartbeat) {
        if (state.nodes.contains(from)) {
          lastHeartbeatMillis.put(from, state.now());
        }
        if (state.bootstrapped) {
          heartbeat.getStatusesList().forEach(s -> onStatus(from, s, out));
        }
      } else if (payload instanceof CoordinatorBootstrapResponse response) {
        onBootstrapResponse(from, response, out);
      } else if (payload instanceof NodeHeartbeat heartbeat) {
        state.drain.onNodeHeartbeat(from, heartbeat).ifPresent(d -> rejections.check(d, "NodeHeartbeat", from, heartbeat.getNodeEpoch(),
            heartbeat.getSeq(), d.next()));
      } else if (payload instanceof SetNodeLivenessResponse response) {
        state.drain.onLivenessResponse(from, response).ifPresent(d -> rejections.check(d, "SetNodeLivenessResponse", from,
            response.getNodeEpoch(), response.getSeq(), d.next()));
      } else {
        String type = payload == null ? "null" : payload.getDescriptorForType().getName();
        onceLog.info(List.of("unexpected", type), () -> "event=unexpected_message role=coordinator type=" + type + " from=" + from);
      }
    });
  }

  public CoordinatorEffects onNodeJoined(NodeId node) {
    return with(out -> {
      if (state.nodes.add(node)) {
        state.unacknowledged.add(node);
        out.send(new Outbound(node, Role.MAINTAINER_MANAGER, bootstrapRequest()));
        out.sendAll(state.drain.onNodeJoined(node));
      }
    });
  }

  public CoordinatorEffects onNodeLeft(NodeId node) {
    return with(out -> {
      if (!state.nodes.remove(node)) {
        return;
      }
      state.unacknowledged.remove(node);
      awaitingInitial.remove(node);
      lastHeartbeatMillis.remove(node);
      placement.onNodeLeft(node);
      out.sendAll(state.drain.onNodeLeft(node));
      for (Changefeed cf : state.changefeeds.values()) {
        if (node.equals(cf.owner())) {
          // Its maintainer died with the node: the next placement bumps the epoch, fencing its dispatchers.
          LOG.info("event=maintainer_lost changefeed={} node={} epoch={}", cf.id(), node, Epochs.format(cf.epoch()));
          cf.disown();
        }
      }
    });
  }

  /** Periodic work: resends, adoption after bootstrap, finished operators, stops, placement, drain, balance, checkpoints. */
  public CoordinatorEffects tick() {
    return with(out -> {
      if (!state.started || state.stopped) {
        return;
      }
      long now = state.now();
      if (now - lastResendAt >= state.settings.resendInterval().toMillis()) {
        lastResendAt = now;
        sendBootstraps(out);
        placement.resend(out);
      }
      if (!state.bootstrapped) {
        if (!awaitingInitial.isEmpty()) {
          return;
        }
        adoptReportedMaintainers(out);
      }
      placement.takeFinished().forEach(op -> onOperatorFinished(op, out));
      lifecycle.driveStops(out);
      placement.placeAbsent(out);
      drains.moveOffTarget(out);
      drains.tick(out);
      placement.balanceIfDue(out);
      checkpoints.persist(out);
    });
  }

  /** The oracle answered timestamp request {@code id} with {@code timestamp}, or failed with {@code error}. */
  public CoordinatorEffects onTimestamp(long id, long timestamp, Throwable error) {
    return with(out -> {
      Optional<Pending> waiting = state.take(id);
      if (waiting.isEmpty() || state.stopped) {
        return;
      }
      Pending p = waiting.get();
      if (p instanceof Pending.BumpTimestamp b) {
        placement.onBumpTimestamp(b, timestamp, error, out);
      } else if (p instanceof Pending.CreateTimestamp c) {
        lifecycle.onCreateTimestamp(c, timestamp, error, out);
      } else if (p instanceof Pending.DrainTimestamp d) {
        drains.onTimestamp(d, timestamp, error, out);
      } else if (p instanceof Pending.WriteTimestamp w) {
        writes.onTimestamp(w, timestamp, error, out);
      } else {
        throw new IllegalStateException("a timestamp answered " + p);
      }
    });
  }

  /** Registry call {@code id} came to {@code result}. */
  public CoordinatorEffects onRegistryResult(long id, RegistryResult result) {
    return with(out -> {
      Optional<Pending> waiting = state.take(id);
      if (waiting.isEmpty() || state.stopped) {
        return;
      }
      Pending p = waiting.get();
      if (p instanceof Pending.Bump b) {
        placement.onBumped(b, result, out);
      } else if (p instanceof Pending.Create c) {
        lifecycle.onCreated(c, result, out);
      } else if (p instanceof Pending.Write w) {
        writes.onWritten(w, result, out);
      } else if (p instanceof Pending.Reread r) {
        writes.onReread(r, result, out);
      } else if (p instanceof Pending.Refresh r) {
        writes.onRefreshed(r, result);
      } else if (p instanceof Pending.CheckpointBatch c) {
        checkpoints.onWritten(c, result, out);
      } else {
        throw new IllegalStateException("a registry call answered " + p);
      }
    });
  }

  // ---- admin requests: each answered under its request id, now or once persisted -----------------------

  public CoordinatorEffects create(long request, ChangefeedInfo requested) {
    return admin(request, out -> lifecycle.create(request, requested, out));
  }

  public CoordinatorEffects pause(long request, ChangefeedId id) {
    return admin(request, out -> lifecycle.pause(request, id, out));
  }

  public CoordinatorEffects resume(long request, ChangefeedId id, long overwriteCheckpointTs) {
    return admin(request, out -> lifecycle.resume(request, id, overwriteCheckpointTs, out));
  }

  public CoordinatorEffects remove(long request, ChangefeedId id) {
    return admin(request, out -> lifecycle.remove(request, id, out));
  }

  public CoordinatorEffects update(long request, ChangefeedId id, UnaryOperator<ChangefeedInfo> change) {
    return admin(request, out -> lifecycle.update(request, id, change, out));
  }

  public CoordinatorEffects moveMaintainer(long request, ChangefeedId id, NodeId dest) {
    return admin(request, out -> lifecycle.moveMaintainer(request, id, dest, out));
  }

  public CoordinatorEffects drain(long request, NodeId node) {
    return admin(request, out -> drains.drain(request, node, out));
  }

  /** An admin request is taken once the registry is loaded (memory decides it) and until the term ends. */
  private CoordinatorEffects admin(long request, Consumer<CoordinatorEffects.Builder> decide) {
    return with(out -> {
      if (state.stopped) {
        out.fail(request, new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE, "the coordinator stepped down; retry"));
      } else if (!state.started) {
        out.fail(request, new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE, "the coordinator is starting; retry"));
      } else {
        decide.accept(out);
      }
    });
  }

  // ---- status admission -------------------------------------------------------------------------------

  private void onBootstrapResponse(NodeId from, CoordinatorBootstrapResponse response, CoordinatorEffects.Builder out) {
    if (!rejections.check(term.admitReply(response.getElectionVersion()), "", "CoordinatorBootstrapResponse", from,
        response.getElectionVersion(), term)) {
      return;
    }
    state.unacknowledged.remove(from);
    out.sendAll(state.drain.onBootstrapTarget(from, response.getDrainTarget()));
    if (!state.bootstrapped && awaitingInitial.remove(from)) {
      response.getStatusesList().forEach(s -> bootstrapReports.add(new Reported(from, s)));
    } else if (state.bootstrapped) {
      response.getStatusesList().forEach(s -> onStatus(from, s, out));
    }
  }

  /**
   * Failover: every node answered. For each changefeed adopt the one maintainer running at the persisted
   * epoch; every other reported maintainer is stopped with its own epoch.
   */
  private void adoptReportedMaintainers(CoordinatorEffects.Builder out) {
    state.bootstrapped = true;
    int adopted = 0;
    for (Reported r : bootstrapReports) {
      MaintainerStatus s = r.status();
      if (!ChangefeedId.isValid(s.getChangefeedId()) || !active(s)) {
        continue;
      }
      Changefeed cf = state.changefeeds.get(ChangefeedId.of(s.getChangefeedId()));
      if (cf != null && cf.owner() == null && s.getEpoch() == cf.epoch() && state.nodes.contains(r.node())) {
        cf.adopt(r.node(), s.getEpoch());
        cf.reportedCheckpoint = Math.max(cf.reportedCheckpoint, s.getCheckpointTs());
        adopted++;
      } else {
        placement.removeStale(r.node(), ChangefeedId.of(s.getChangefeedId()), s.getEpoch(), out);
      }
    }
    bootstrapReports.clear();
    LOG.info("event=coordinator_bootstrapped election_version={} adopted={} stale={} changefeeds={}",
        state.electionVersion, adopted, placement.staleCount(), state.changefeeds.size());
  }

  private void onStatus(NodeId from, MaintainerStatus status, CoordinatorEffects.Builder out) {
    if (status == null || !ChangefeedId.isValid(status.getChangefeedId())) {
      Meters.counter(state.metrics, "feedline.coordinator.malformed_statuses", "Maintainer statuses the coordinator could not read").increment();
      onceLog.warn(List.of("bad-status", from), () -> "event=malformed_status from=" + from + " changefeed='" + (status == null ? "" : status.getChangefeedId()) + "'");
      return;
    }
    ChangefeedId id = ChangefeedId.of(status.getChangefeedId());
    // A stopped maintainer confirms the removal asked of it with its own epoch, whatever the fence says.
    boolean confirmedRemoval = !active(status) && placement.onStopped(from, id, status.getEpoch());
    Changefeed cf = state.changefeeds.get(id);
    if (cf == null) {
      if (active(status)) {
        placement.removeStale(from, id, status.getEpoch(), out);
      }
      return;
    }
    boolean operated = placement.advanceOperator(id, from, status, out);
    Fence owner = cf.fence();
    Fence.Decision decision = owner.admitControl(from, status.getEpoch());
    if (!decision.accepted()) {
      // The operator of this changefeed talks to maintainers at other epochs (a move's origin, an add's
      // destination before it is adopted); anything else active is a maintainer nobody owns any more.
      if (active(status) && !operated) {
        rejections.check(decision, id.value(), "MaintainerStatus", from, status.getEpoch(), owner);
        placement.removeStale(from, id, status.getEpoch(), out);
      } else if (!operated && !confirmedRemoval && stoppedReported.add(new StoppedMaintainer(from, id, status.getEpoch()))) {
        // A stopped maintainer nobody waits for: counted once, not at every resend of its report.
        rejections.check(decision, id.value(), "MaintainerStatus", from, status.getEpoch(), owner);
      }
      return;
    }
    if (!active(status)) {
      if (!state.operators.busy(id)) {
        cf.disown(); // it stopped by itself; placement will start a new one
      }
      return;
    }
    cf.reportedCheckpoint = Math.max(cf.reportedCheckpoint, status.getCheckpointTs());
    cf.drainProgress = status.getDrainProgress();
    cf.blockers = status.getBlockersList();
    cf.resolvedTs = status.getResolvedTs();
    // The changefeed's state first: a checkpoint batch started by this status would hold its write slot.
    if (status.getErrorsCount() > 0) {
      lifecycle.onMaintainerError(cf, status.getErrors(0), out);
    } else {
      lifecycle.onProgress(cf, out);
    }
    if (state.bootstrapped && cf.reportedCheckpoint > cf.record.status().getCheckpointTs()) {
      // Not only at the next tick: the persisted checkpoint is what users read as the changefeed's lag.
      checkpoints.onCheckpointMoved(out);
    }
  }

  private static boolean active(MaintainerStatus s) {
    return !MaintainerOperator.stopped(s);
  }

  private void onOperatorFinished(MaintainerOperator op, CoordinatorEffects.Builder out) {
    Changefeed cf = state.changefeeds.get(op.changefeed());
    if (cf == null) {
      return;
    }
    switch (op.outcome().orElseThrow()) {
      case SUCCEEDED -> {
        if (op instanceof StopChangefeed stop) {
          cf.disown();
          lifecycle.completeStop(cf, stop.removed(), out);
        } else {
          cf.adopt(op.destination().orElseThrow(), op.epoch());
        }
      }
      case DESTINATION_LOST, NODE_LOST -> cf.disown();
      case REJECTED -> {
        cf.disown();
        lifecycle.onRejected(cf, op, out);
      }
    }
  }

  private CoordinatorBootstrapRequest bootstrapRequest() {
    return CoordinatorBootstrapRequest.newBuilder().setElectionVersion(state.electionVersion).build();
  }

  private void sendBootstraps(CoordinatorEffects.Builder out) {
    for (NodeId node : state.unacknowledged) {
      out.send(new Outbound(node, Role.MAINTAINER_MANAGER, bootstrapRequest()));
    }
  }

  // ---- queries (memory only, no effects) --------------------------------------------------------------

  public Optional<ChangefeedRecord> query(ChangefeedId id) {
    return state.changefeed(id).map(cf -> cf.record);
  }

  public List<ChangefeedRecord> list() {
    return state.changefeeds.values().stream().map(cf -> cf.record).toList();
  }

  /** What the changefeed's maintainer last said holds its checkpoint back and where its source has got to. */
  public CheckpointReport checkpointReport(ChangefeedId id) {
    Changefeed cf = state.changefeeds.get(id);
    return cf == null || cf.owner() == null ? CheckpointReport.NONE : new CheckpointReport(cf.blockers, cf.resolvedTs);
  }

  /**
   * For every node that hosts maintainers: when its maintainer manager last sent a heartbeat (the start of
   * this term if it has not yet). Nodes without maintainers send none, so they are left out.
   */
  public Map<NodeId, Long> lastHeartbeats() {
    Map<NodeId, Long> out = new HashMap<>();
    state.changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        out.put(cf.owner(), lastHeartbeatMillis.getOrDefault(cf.owner(), startedMillis));
      }
    });
    return out;
  }

  /** The node of each changefeed's adopted maintainer (absent ones left out). */
  public Map<ChangefeedId, NodeId> maintainers() {
    Map<ChangefeedId, NodeId> out = new HashMap<>();
    state.changefeeds.values().forEach(cf -> {
      if (cf.owner() != null) {
        out.put(cf.id(), cf.owner());
      }
    });
    return out;
  }

  public boolean bootstrapped() {
    return state.bootstrapped;
  }

  public int operatorCount() {
    return state.operators.size();
  }

  /** The drain under way, and what is left of it. */
  public Optional<Map.Entry<NodeId, Long>> drainStatus() {
    return drains.status();
  }

  /** Every live node as it last reported itself, with the liveness the coordinator shows for it. */
  public Map<NodeId, DrainController.NodeReport> nodeReports() {
    return drains.nodeReports();
  }
}
