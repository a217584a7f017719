package io.feedline.maintainer.manager;

import com.google.protobuf.Message;
import io.feedline.common.config.Timings;
import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.drain.NodeLivenessState;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.messaging.ControlPayloads;
import io.feedline.common.messaging.FenceTokens;
import io.feedline.common.messaging.FencedInbox;
import io.feedline.common.messaging.FencedInbox.Admitted;
import io.feedline.common.messaging.FencedInbox.Rule;
import io.feedline.common.messaging.FencedInbox.Scope;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.feedline.common.uri.SinkUris;
import io.feedline.maintainer.DispatcherReplies;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerFactory;
import io.feedline.maintainer.manager.ChangefeedSlot.AfterStop;
import io.feedline.maintainer.manager.ChangefeedSlot.DoneReport;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.RunningError;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decisions of a node's maintainer manager (DESIGN §3, §4): which coordinator it obeys, which
 * maintainers it runs at which epoch, and what it reports. Every input returns {@link MaintainerManagerEffects} for
 * {@link MaintainerManagerRuntime} to perform; nothing here sends, waits or reads a clock.
 *
 * <p>Coordinator commands pass one {@link FencedInbox} before any handler runs:
 * <ul>
 *   <li>Every command is fenced by election version, the coordinator's epoch: a bootstrap takes over at a
 *       version at least the highest seen (the same version only from the same node); every other command
 *       is accepted only from exactly that coordinator.
 *   <li>Adds and removes are then fenced by changefeed epoch: an add takes over at a strictly newer
 *       epoch, replacing the local maintainer only after it has fully stopped; a removal at an epoch at
 *       least the highest seen stops it and tombstones the epoch.
 *   <li>A finished stop is reported as STOPPED or REMOVED with the request's epoch for
 *       2 × {@code maintainer-status-force}, then forgotten.
 *   <li>Node liveness moves forward only (ALIVE → DRAINING → STOPPING) on commands carrying this node's
 *       epoch; every command from the current coordinator is answered with the current liveness.
 *   <li>The node's dispatcher drain target follows {@link NodeDrainTarget}'s monotonic rules and is
 *       given to every local maintainer, a new one in the same step that registers it; every update from
 *       the current coordinator, even a duplicate or stale one, is acknowledged with a node heartbeat.
 * </ul>
 *
 * <p>Fence drops are counted in {@code feedline.fence.rejections{role=maintainer-manager}} and logged once
 * with both epochs (versions); malformed requests in {@code feedline.maintainer_manager.rejections}.
 * Never throws on remote input. Not thread-safe: owned by one context.
 */
public final class MaintainerManager {

  private static final Logger LOG = LoggerFactory.getLogger(MaintainerManager.class);
  private static final String ROLE = Role.MAINTAINER_MANAGER.segment();
  /** The error code an invalid add request is answered with. */
  public static final String INVALID_ADD_REQUEST = "invalid_add_request";

  private final NodeId self;
  private final long nodeEpoch;
  private final MaintainerFactory factory;
  /** Dispatchers running on this node (read from the dispatcher role), reported in node heartbeats. */
  private final LongSupplier dispatchers;
  private final LongSupplier metastoreUnreachableSinceMs;
  private final long statusForceMillis;
  private final long nodeHeartbeatMillis;
  private final long reportRetentionMillis;
  private final MeterRegistry metrics;
  /**
   * The door of the coordinator's commands. The inbox is built once, so a handler answers with its effects as a
   * function of the time the command is handled at.
   */
  private final FencedInbox<LongFunction<MaintainerManagerEffects>> inbox;
  /** The door of this node's maintainers for the dispatcher side's answers. */
  private final DispatcherReplies replies;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 10_000);
  private final AtomicInteger localMaintainers;
  /** Sorted, so heartbeats and bootstrap responses list changefeeds in a stable order. */
  private final Map<ChangefeedId, ChangefeedSlot> slots = new TreeMap<>();
  /** The coordinator this node obeys: owner = its node, epoch = its election version. */
  private Fence coordinator = Fence.INITIAL;
  private NodeLivenessState liveness = NodeLivenessState.ALIVE;
  private NodeDrainTarget drainTarget = NodeDrainTarget.NONE;
  /** When the last node heartbeat was sent; the next is due {@code node-heartbeat} later. */
  private long lastNodeHeartbeatMillis = Long.MIN_VALUE / 2;
  /** The sequence number of this node's last report (heartbeat or liveness response), which the coordinator fences. */
  private long reportSeq;

  /** A manager of a node whose epoch is 0 and that hosts no dispatchers (tests of the changefeed protocol). */
  public MaintainerManager(NodeId self, Timings timings, MaintainerFactory factory, MeterRegistry metrics) {
    this(self, 0, timings, factory, () -> 0, () -> 0, metrics);
  }

  /**
   * @param dispatchers the dispatchers running on this node, for the node heartbeat
   * @param metastoreUnreachableSinceMs since when this node has not reached the metastore (0: it does), likewise
   */
  public MaintainerManager(NodeId self, long nodeEpoch, Timings timings, MaintainerFactory factory, LongSupplier dispatchers,
      LongSupplier metastoreUnreachableSinceMs, MeterRegistry metrics) {
    this.self = self;
    this.nodeEpoch = nodeEpoch;
    this.factory = factory;
    this.dispatchers = dispatchers;
    this.metastoreUnreachableSinceMs = metastoreUnreachableSinceMs;
    this.statusForceMillis = timings.maintainerStatusForce().toMillis();
    this.nodeHeartbeatMillis = timings.nodeHeartbeat().toMillis();
    this.reportRetentionMillis = 2 * statusForceMillis;
    this.metrics = metrics;
    this.replies = new DispatcherReplies(self, metrics);
    Scope obeyedCoordinator = Scope.of(() -> coordinator, in -> FenceTokens.electionVersion(in.payload()));
    // A command for another incarnation of this node (the node id is reused only by tests, the epoch is the process
    // start) must not drain this one: it is checked against the node's own epoch.
    Scope incarnation = Scope.of(() -> Fence.ownedBy(self, nodeEpoch), in -> in.as(SetNodeLivenessRequest.class).getNodeEpoch());
    // An add makes this node the changefeed's owner at the command's epoch; a remove ends that ownership here.
    Scope ownership = Scope.changefeedAs(self);
    this.inbox = FencedInbox.<LongFunction<MaintainerManagerEffects>>builder(ROLE, metrics)
        .on(CoordinatorBootstrapRequest.class)
            .check(obeyedCoordinator, Rule.BOOTSTRAP)
            .then(a -> now -> onCoordinatorBootstrap(a, now))
        .on(SetDispatcherDrainTargetRequest.class)
            .check(obeyedCoordinator, Rule.CONTROL)
            .then(a -> now -> onSetDrainTarget(a, now))
        .on(SetNodeLivenessRequest.class)
            .check(obeyedCoordinator, Rule.CONTROL)
            // Refused for another incarnation, yet answered: the coordinator learns this node's epoch and liveness.
            .check(incarnation, Rule.REPLY, r -> now -> answerLiveness(r.from(), now))
            .then(a -> now -> onSetLiveness(a, now))
        // A changefeed id that is none is judged after the coordinator check: only the obeyed coordinator's is answered.
        .on(AddMaintainerRequest.class)
            .check(obeyedCoordinator, Rule.CONTROL)
            .check(ownership, Rule.BOOTSTRAP)
            .onInvalidChangefeed((from, request) -> now -> rejectAdd(from, request, AddCheck.invalidId(request.getChangefeedId()), now))
            .then(a -> now -> onAdd(a, now))
        .on(RemoveMaintainerRequest.class)
            .check(obeyedCoordinator, Rule.CONTROL)
            .check(ownership, Rule.CLOSE)
            .onInvalidChangefeed((from, request) -> now -> rejectRemove(request))
            .then(a -> now -> onRemove(a, now))
        .build(this::fence, now -> MaintainerManagerEffects.NONE);
    this.localMaintainers = Meters.gauge(metrics, "feedline.maintainer_manager.maintainers", "Maintainers running on this node", new AtomicInteger(),
        AtomicInteger::get);
  }

  /** The coordinator commands are accepted from, if any bootstrapped this node yet. */
  public Optional<NodeId> coordinator() {
    return Optional.ofNullable(coordinator.owner());
  }

  /** The highest coordinator election version this node obeys (0: none bootstrapped it yet); it never goes down. */
  public long coordinatorElectionVersion() {
    return coordinator.epoch();
  }

  /** The running (not stopping) local maintainers and their epochs: what this node owns right now. */
  public Map<ChangefeedId, Long> runningMaintainers() {
    Map<ChangefeedId, Long> running = new TreeMap<>();
    slots.forEach((id, slot) -> {
      if (slot.maintainer != null && !slot.stopping) {
        running.put(id, slot.maintainer.epoch());
      }
    });
    return running;
  }

  public NodeLiveness liveness() {
    return liveness.liveness();
  }

  /** The drain target this node applied last. */
  public NodeDrainTarget drainTarget() {
    return drainTarget;
  }

  /** One inbound control message; empty when this role does not handle its type. */
  public Optional<MaintainerManagerEffects> onMessage(Inbound in, long nowMillis) {
    if (inbox.handles(in.payload())) {
      return Optional.of(inbox.deliver(in).apply(nowMillis));
    }
    String changefeed = DispatcherReplies.changefeedOf(in);
    if (changefeed == null) {
      return Optional.empty();
    }
    return Optional.of(routeToMaintainer(in, changefeed));
  }

  /** Whether {@code payload}'s type is a coordinator command this manager fences. */
  boolean fences(Message payload) {
    return inbox.handles(payload);
  }

  /** The fence of this node's ownership of {@code changefeed}: the highest add or removal accepted for it. */
  Fence fence(ChangefeedId changefeed) {
    ChangefeedSlot slot = slots.get(changefeed);
    return slot == null ? Fence.INITIAL : slot.fence;
  }

  /**
   * The stop of {@code maintainer} completed: replace it, close the dispatcher managers too, or report
   * the stop, whichever the latest accepted decision asked for.
   */
  public MaintainerManagerEffects onMaintainerStopped(Maintainer maintainer, Throwable failure, long nowMillis) {
    ChangefeedSlot slot = slots.get(maintainer.changefeedId());
    if (slot == null || slot.maintainer != maintainer || !slot.stopping) {
      LOG.warn("event=unexpected_stop_completion changefeed={} epoch={}", maintainer.changefeedId(), Epochs.format(maintainer.epoch()));
      return MaintainerManagerEffects.NONE;
    }
    if (failure != null) {
      // The contract says a stop never fails; holding the slot forever would wedge the changefeed here.
      Meters.counter(metrics, "feedline.maintainer_manager.stop_failures", "Maintainers that did not stop cleanly").increment();
      LOG.error("event=maintainer_stop_failed changefeed={} epoch={} error=\"{}\" action=treat_as_stopped",
          slot.changefeed, Epochs.format(maintainer.epoch()), failure.toString());
    }
    long checkpointTs = maintainer.status().getCheckpointTs();
    if (checkpointTs != 0) {
      slot.lastCheckpointTs = checkpointTs;
    }
    boolean dispatchersClosed = slot.stopCascades;
    AfterStop next = slot.afterStop;
    assign(slot, null);
    slot.stopping = false;
    slot.afterStop = null;
    LOG.info("event=maintainer_stopped changefeed={} epoch={} dispatchers_closed={}",
        slot.changefeed, Epochs.format(maintainer.epoch()), dispatchersClosed);
    MaintainerManagerEffects effects;
    if (next instanceof AfterStop.StartMaintainer start) {
      effects = startMaintainer(slot, start.add());
    } else if (next instanceof AfterStop.CloseDispatchers close) {
      effects = startRemoveOnly(slot, close.epoch(), close.removed());
    } else {
      AfterStop.Report report = (AfterStop.Report) next;
      slot.done = new DoneReport(report.epoch(), report.removed(), dispatchersClosed, slot.lastCheckpointTs,
          nowMillis + reportRetentionMillis);
      effects = MaintainerManagerEffects.NONE;
    }
    return effects;
  }

  /**
   * The maintainer heartbeat: to the current coordinator, the statuses that changed since last sent or
   * were last sent {@code maintainer-status-force} ago; then confirmations past their retention are
   * forgotten (after being sent one last time if due).
   */
  public MaintainerManagerEffects onHeartbeatTick(long nowMillis) {
    List<MaintainerStatus> due = new ArrayList<>();
    if (coordinator.hasOwner()) {
      for (ChangefeedSlot slot : slots.values()) {
        MaintainerStatus status = slot.status();
        if (!status.equals(slot.lastSent) || nowMillis - slot.lastSentAtMillis >= statusForceMillis) {
          due.add(status);
          slot.lastSent = status;
          slot.lastSentAtMillis = nowMillis;
        }
      }
    }
    slots.values().removeIf(slot -> slot.expired(nowMillis));
    MaintainerManagerEffects effects = due.isEmpty()
        ? MaintainerManagerEffects.NONE
        : MaintainerManagerEffects.send(coordinator.owner(), Role.COORDINATOR, MaintainerHeartbeat.newBuilder().addAllStatuses(due).build());
    if (nowMillis - lastNodeHeartbeatMillis >= nodeHeartbeatMillis) {
      effects = effects.and(nodeHeartbeat(nowMillis));
    }
    return effects;
  }

  /**
   * Self-fence (DESIGN §8): the metastore session is lost, so this node may own nothing any more. It goes
   * DRAINING then STOPPING here and now, without a coordinator's word, and says so in a node heartbeat;
   * the runtime stops the write paths and the node leaves.
   */
  public MaintainerManagerEffects onSessionLost(long nowMillis) {
    NodeLivenessState before = liveness;
    liveness = liveness.advanceTo(NodeLiveness.NODE_LIVENESS_DRAINING).advanceTo(NodeLiveness.NODE_LIVENESS_STOPPING);
    LOG.warn("event=self_fence node={} liveness_before={} liveness={}", self, before.label(), liveness.label());
    return nodeHeartbeat(nowMillis);
  }

  // ---- node-level commands ----

  /** The node heartbeat to the current coordinator (none before any coordinator bootstrapped this node). */
  private MaintainerManagerEffects nodeHeartbeat(long nowMillis) {
    if (!coordinator.hasOwner()) {
      return MaintainerManagerEffects.NONE;
    }
    lastNodeHeartbeatMillis = nowMillis;
    NodeHeartbeat heartbeat = NodeHeartbeat.newBuilder()
        .setLiveness(liveness.liveness())
        .setNodeEpoch(nodeEpoch)
        .setSeq(++reportSeq)
        .setDrainTargetAcknowledged(drainTarget.toProto())
        .setDispatchers(Math.max(0, dispatchers.getAsLong()))
        .setMetastoreUnreachableSinceMs(Math.max(0, metastoreUnreachableSinceMs.getAsLong()))
        .build();
    return MaintainerManagerEffects.send(coordinator.owner(), Role.COORDINATOR, heartbeat);
  }

  private MaintainerManagerEffects onSetLiveness(Admitted<SetNodeLivenessRequest> admitted, long nowMillis) {
    SetNodeLivenessRequest request = admitted.payload();
    NodeLivenessState next = liveness.advanceTo(request.getTarget());
    if (!next.equals(liveness)) {
      LOG.info("event=node_liveness node={} liveness={} previous={} election_version={}", self, next.label(), liveness.label(),
          Epochs.format(request.getElectionVersion()));
      liveness = next;
    }
    return answerLiveness(admitted.from(), nowMillis);
  }

  /**
   * The answer to every liveness command of the current coordinator, also one for another incarnation of this node:
   * what is true now, so the coordinator learns this node's epoch and liveness.
   */
  private MaintainerManagerEffects answerLiveness(NodeId to, long nowMillis) {
    SetNodeLivenessResponse response = SetNodeLivenessResponse.newBuilder().setLiveness(liveness.liveness()).setNodeEpoch(nodeEpoch)
        .setSeq(++reportSeq).build();
    return MaintainerManagerEffects.send(to, Role.COORDINATOR, response).and(nodeHeartbeat(nowMillis));
  }

  private MaintainerManagerEffects onSetDrainTarget(Admitted<SetDispatcherDrainTargetRequest> admitted, long nowMillis) {
    SetDispatcherDrainTargetRequest request = admitted.payload();
    NodeDrainTarget.Update update = drainTarget.offer(NodeDrainTarget.of(request.getTarget()));
    Meters.counter(metrics, "feedline.maintainer_manager.drain_target_updates", "Drain targets the maintainer manager was told of, by outcome",
        "outcome", update.outcome().label()).increment();
    if (update.outcome() == NodeDrainTarget.Outcome.APPLIED) {
      LOG.info("event=drain_target_applied node={} target={} previous={} maintainers={}", self, update.next(), drainTarget, slots.size());
      drainTarget = update.next();
      slots.values().forEach(slot -> {
        if (slot.maintainer != null) {
          slot.maintainer.drainTarget(drainTarget.toProto());
        }
      });
    } else if (update.outcome() == NodeDrainTarget.Outcome.STALE) {
      onceLog.info(List.of("stale-drain-target", NodeDrainTarget.of(request.getTarget()), drainTarget),
          () -> "event=drain_target_stale node=" + self + " offered=" + NodeDrainTarget.of(request.getTarget()) + " current=" + drainTarget);
    }
    // The acknowledgement is the node heartbeat carrying the applied target, even for a duplicate or a
    // stale update: the coordinator may have lost the previous one, and a node with no maintainers has
    // nothing else to answer with.
    return nodeHeartbeat(nowMillis);
  }

  // ---- coordinator commands ----

  private MaintainerManagerEffects onCoordinatorBootstrap(Admitted<CoordinatorBootstrapRequest> admitted, long nowMillis) {
    NodeId from = admitted.from();
    long version = admitted.payload().getElectionVersion();
    Fence.Decision decision = admitted.decision();
    if (decision.admission() == Admission.TAKEOVER) {
      LOG.info("event=coordinator_changed coordinator={} election_version={} previous_coordinator={} previous_version={}",
          from, Epochs.format(version), coordinator.hasOwner() ? coordinator.owner() : "none", Epochs.format(coordinator.epoch()));
    }
    coordinator = decision.next();
    CoordinatorBootstrapResponse.Builder response = CoordinatorBootstrapResponse.newBuilder().setElectionVersion(version)
        .setDrainTarget(drainTarget.toProto());
    slots.values().forEach(slot -> response.addStatuses(slot.status()));
    // The node heartbeat follows at once: a new coordinator must know this node's liveness before placing.
    return MaintainerManagerEffects.send(from, Role.COORDINATOR, response.build()).and(nodeHeartbeat(nowMillis));
  }

  private MaintainerManagerEffects onAdd(Admitted<AddMaintainerRequest> admitted, long nowMillis) {
    AddMaintainerRequest request = admitted.payload();
    AddCheck check = AddCheck.of(request);
    if (check instanceof AddCheck.Invalid invalid) {
      return rejectAdd(admitted.from(), request, invalid, nowMillis);
    }
    AddCheck.Valid add = (AddCheck.Valid) check;
    ChangefeedSlot slot = slots.getOrDefault(add.changefeed(), new ChangefeedSlot(add.changefeed()));
    long epoch = request.getEpoch();
    Fence.Decision decision = admitted.decision();
    slots.put(add.changefeed(), slot);
    slot.fence = decision.next();
    if (decision.admission() != Admission.TAKEOVER) {
      // The same epoch again (a resend): that maintainer already exists or waits for its predecessor's stop.
      return MaintainerManagerEffects.NONE;
    }
    if (slot.maintainer == null) {
      return startMaintainer(slot, add);
    }
    // Two maintainers of one changefeed must never run here at once: the new one waits for the old one's stop.
    slot.afterStop = new AfterStop.StartMaintainer(add);
    if (slot.stopping) {
      LOG.info("event=add_pending changefeed={} epoch={} stopping_epoch={}",
          slot.changefeed, Epochs.format(epoch), Epochs.format(slot.maintainer.epoch()));
      return MaintainerManagerEffects.NONE;
    }
    LOG.info("event=maintainer_replacing changefeed={} epoch={} old_epoch={}",
        slot.changefeed, Epochs.format(epoch), Epochs.format(slot.maintainer.epoch()));
    return orderStop(slot, false, false);
  }

  private MaintainerManagerEffects onRemove(Admitted<RemoveMaintainerRequest> admitted, long nowMillis) {
    RemoveMaintainerRequest request = admitted.payload();
    ChangefeedId changefeed = admitted.changefeed();
    ChangefeedSlot slot = slots.getOrDefault(changefeed, new ChangefeedSlot(changefeed));
    long epoch = request.getEpoch();
    boolean cascade = request.getCascade();
    boolean removed = request.getRemoved();
    Fence.Decision decision = admitted.decision();
    slots.put(changefeed, slot);
    slot.fence = decision.next();
    if (slot.maintainer != null && !slot.stopping) {
      LOG.info("event=maintainer_stopping changefeed={} epoch={} local_epoch={} cascade={} removed={}",
          changefeed, Epochs.format(epoch), Epochs.format(slot.maintainer.epoch()), cascade, removed);
      slot.afterStop = new AfterStop.Report(epoch, removed);
      return orderStop(slot, cascade, removed);
    }
    if (slot.stopping) {
      // The latest decision replaces whatever was to follow the stop in flight (a pending add included).
      AfterStop next = cascade && !slot.stopCascades
          ? new AfterStop.CloseDispatchers(epoch, removed)
          : new AfterStop.Report(epoch, removed);
      if (!next.equals(slot.afterStop)) {
        LOG.info("event=after_stop_changed changefeed={} epoch={} stopping_epoch={} next={}",
            changefeed, Epochs.format(epoch), Epochs.format(slot.maintainer.epoch()), next);
      }
      slot.afterStop = next;
      return MaintainerManagerEffects.NONE;
    }
    if (decision.admission() == Admission.ACCEPT && slot.done != null && slot.done.covers(cascade)) {
      // Already done at this epoch: confirm again, so a lost confirmation is healed by the resend.
      slot.done = slot.done.reconfirmed(removed, nowMillis + reportRetentionMillis);
      slot.lastSent = null;
      return MaintainerManagerEffects.NONE;
    }
    if (cascade) {
      // The owner's maintainer is gone (its node died): dispatcher managers may still run anywhere.
      return startRemoveOnly(slot, epoch, removed);
    }
    LOG.info("event=removal_confirmed changefeed={} epoch={} removed={} local_maintainer=none", changefeed, Epochs.format(epoch), removed);
    slot.done = new DoneReport(epoch, removed, false, slot.lastCheckpointTs, nowMillis + reportRetentionMillis);
    return MaintainerManagerEffects.NONE;
  }

  /** A removal from the current coordinator that names no valid changefeed: counted, nothing else to do. */
  private MaintainerManagerEffects rejectRemove(RemoveMaintainerRequest request) {
    reject(ControlPayloads.typeOf(request), "invalid_changefeed_id", request.getChangefeedId(), request.getEpoch(),
        "changefeed id is invalid", "");
    return MaintainerManagerEffects.NONE;
  }

  private MaintainerManagerEffects rejectAdd(NodeId from, AddMaintainerRequest request, AddCheck.Invalid invalid, long nowMillis) {
    reject(ControlPayloads.typeOf(request), invalid.reason(), request.getChangefeedId(), request.getEpoch(), invalid.message(),
        invalid.sinkUri());
    RunningError error = RunningError.newBuilder()
        .setNodeId(self.value())
        .setCode(INVALID_ADD_REQUEST)
        .setMessage(invalid.message())
        .setTimeMs(nowMillis)
        .build();
    MaintainerStatus status = MaintainerStatus.newBuilder()
        .setChangefeedId(request.getChangefeedId())
        .setState(ComponentState.COMPONENT_STATE_STOPPED)
        .addErrors(error)
        .setEpoch(request.getEpoch())
        .build();
    return MaintainerManagerEffects.send(from, Role.COORDINATOR, MaintainerHeartbeat.newBuilder().addStatuses(status).build());
  }

  private void reject(String type, String reason, String changefeed, long epoch, String message, String sinkUri) {
    Meters.counter(metrics, "feedline.maintainer_manager.rejections", "Requests the maintainer manager refused, by type and reason",
        "type", type, "reason", reason).increment();
    String shown = AddCheck.shown(changefeed);
    onceLog.warn(List.of(type, reason, shown, epoch),
        () -> "event=request_rejected type=" + type + " reason=" + reason + " changefeed=" + shown + " epoch=" + Epochs.format(epoch)
            + " detail=\"" + message + "\"" + (sinkUri.isEmpty() ? "" : " sink=" + SinkUris.redact(sinkUri)));
  }

  // ---- maintainers ----

  private MaintainerManagerEffects startMaintainer(ChangefeedSlot slot, AddCheck.Valid add) {
    AddMaintainerRequest request = add.request();
    Maintainer maintainer = factory.create(slot.changefeed, request.getEpoch(), add.info(), request.getCheckpointTs(), request.getIsNew());
    assign(slot, maintainer);
    slot.done = null;
    LOG.info("event=maintainer_created changefeed={} epoch={} checkpoint_ts={} is_new={} sink={}", slot.changefeed,
        Epochs.format(request.getEpoch()), request.getCheckpointTs(), request.getIsNew(), SinkUris.redact(add.info().getSinkUri()));
    return MaintainerManagerEffects.start(maintainer);
  }

  private MaintainerManagerEffects startRemoveOnly(ChangefeedSlot slot, long epoch, boolean removed) {
    Maintainer maintainer = factory.removeOnly(slot.changefeed, epoch, removed);
    assign(slot, maintainer);
    slot.done = null;
    slot.stopping = true;
    slot.stopCascades = true;
    slot.afterStop = new AfterStop.Report(epoch, removed);
    LOG.info("event=remove_only_maintainer_created changefeed={} epoch={} removed={}", slot.changefeed, Epochs.format(epoch), removed);
    return MaintainerManagerEffects.startAndStop(maintainer, true, removed);
  }

  private static MaintainerManagerEffects orderStop(ChangefeedSlot slot, boolean cascade, boolean removed) {
    slot.stopping = true;
    slot.stopCascades = cascade;
    return MaintainerManagerEffects.stop(slot.maintainer, cascade, removed);
  }

  /**
   * Sets the slot's local maintainer; the only place it changes, so the gauge stays exact. A new
   * maintainer gets the node's drain target in this same step: registering it and seeding it are one
   * step, so no target update can fall between them.
   */
  private void assign(ChangefeedSlot slot, Maintainer maintainer) {
    if (slot.maintainer == null && maintainer != null) {
      localMaintainers.incrementAndGet();
    } else if (slot.maintainer != null && maintainer == null) {
      localMaintainers.decrementAndGet();
    }
    slot.maintainer = maintainer;
    if (maintainer != null) {
      maintainer.drainTarget(drainTarget.toProto());
    }
  }

  // ---- dispatcher-side traffic ----

  private MaintainerManagerEffects routeToMaintainer(Inbound in, String changefeed) {
    ChangefeedSlot slot = ChangefeedId.isValid(changefeed) ? slots.get(ChangefeedId.of(changefeed)) : null;
    if (slot == null || slot.maintainer == null) {
      // Normal after a maintainer is gone: late answers and resends of its requests.
      Meters.counter(metrics, "feedline.maintainer_manager.unrouted", "Messages for a maintainer this node does not run, by type",
          "type", in.type()).increment();
      return MaintainerManagerEffects.NONE;
    }
    if (replies.admit(in, slot.maintainer.changefeedId(), slot.maintainer.epoch())) {
      slot.maintainer.onDispatcherMessage(in.from(), in.payload());
    }
    return MaintainerManagerEffects.NONE;
  }

}
