package io.feedline.maintainer.changefeed;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.feedline.common.drain.DrainConcurrency;
import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.messaging.RunningErrorCodes;
import io.feedline.common.messaging.ControlPayloads;
import io.feedline.common.metrics.Meters;
import io.feedline.maintainer.DispatcherCloseRounds;
import io.feedline.maintainer.barrier.ActionBatch;
import io.feedline.maintainer.barrier.Barrier;
import io.feedline.maintainer.checkpoint.CheckpointBlockers;
import io.feedline.maintainer.checkpoint.CheckpointTracker;
import io.feedline.maintainer.operator.MoveSpan;
import io.feedline.maintainer.operator.RemoveSpan;
import io.feedline.maintainer.operator.ReplaceSpans;
import io.feedline.maintainer.operator.ScheduleBatch;
import io.feedline.maintainer.operator.SpanOperatorController;
import io.feedline.maintainer.scheduler.BalanceSpanScheduler;
import io.feedline.maintainer.scheduler.BasicSpanScheduler;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.OperatorType;
import io.feedline.proto.RunningError;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SchemaInfo;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One changefeed's maintainer, as a pure state machine (DESIGN §6): every input (a dispatcher-side
 * message, a round of the maintainer tick with the live node set) returns the messages to send; nothing
 * here sends, waits or reads a clock. {@link MaintainerRuntime} performs it on the maintainer manager's
 * context.
 *
 * <p>Bootstrap: every live node (and every node that joins meanwhile) is asked for its dispatchers and
 * in-flight journal, resent until it answers; only replies at this maintainer's epoch count. The table
 * trigger is settled from those snapshots: one already on this node is adopted (its id reused, so a
 * reused dispatcher manager never sees a mismatched trigger id), table triggers on other nodes are
 * removed and confirmed stopped first (one DDL writer), then this node is asked again naming the trigger
 * and answers with the tables that exist where the trigger resumes. Span state is rebuilt from the
 * snapshots and journals, uncovered tables become absent spans, post-bootstrap starts the DDL flow, and
 * only then is the maintainer Working and bootstrapped.
 *
 * <p>Working: the basic scheduler places absent spans (batched per node), the balance scheduler evens
 * span counts when stable, operators move spans, self-healing turns stopped or vanished dispatchers into
 * absent spans and removes dispatchers nobody asked for, the {@link Barrier} runs DDLs, and the
 * checkpoint advances monotonically.
 *
 * <p>Removing ({@link #beginRemoving}, DESIGN §8): the next owner may already be bootstrapping from the
 * same dispatchers, so this one stops deciding anything about them: no self-healing, no node changes, no
 * bootstrap, block statuses, barrier actions or scheduling, and its operators freeze except the closes
 * of other table triggers. Heartbeats still move span progress, so the checkpoint it ends with (a
 * paused changefeed resumes there) keeps up, held back by the frozen operators and pending DDLs. Only a
 * cascading removal closes the dispatcher managers. Never throws on remote input. Not thread-safe.
 */
public final class ChangefeedMaintainer {

  private static final Logger LOG = LoggerFactory.getLogger(ChangefeedMaintainer.class);
  /** The error a dispatcher manager answers when it holds another table trigger than the one named. */
  static final String TRIGGER_MISMATCH = "trigger_mismatch";
  private static final long NEVER = Long.MIN_VALUE / 2;
  /** How many spans the status names as holding the checkpoint back. */
  static final int BLOCKERS_REPORTED = 5;
  /** How often they are looked for: it walks every span, which at a million spans is not for every round. */
  static final long BLOCKERS_REFRESH_MILLIS = 2_000;

  /** Where settling the table trigger stands. */
  enum TriggerStage {
    /** Waiting for this node's snapshot (and, in the first bootstrap, every node's) to find the trigger. */
    LEARN,
    /** Waiting for table triggers on other nodes to be confirmed stopped. */
    CLEAR_REMOTE,
    /** Asking this node to create (or keep) the trigger with the chosen id. */
    CREATE,
    /** Asking this node to start the trigger's DDL flow. */
    POST,
    READY
  }

  private final MaintainerConfig config;
  private final NodeId self;
  private final ChangefeedId changefeed;
  private final long epoch;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 1_000);
  private final SpanController spans = new SpanController();
  private final SpanOperatorController operators;
  private final Barrier barrier;
  private final CheckpointTracker checkpoint;
  private final BasicSpanScheduler basic;
  private final BalanceSpanScheduler balance;

  private final Set<NodeId> nodes = new TreeSet<>();
  /** Nodes asked for a snapshot that have not answered yet, with when they were last asked. */
  private final Map<NodeId, Long> bootstrapPending = new LinkedHashMap<>();
  /** Nodes that answered: their dispatcher manager exists, so spans may be placed there. */
  private final Set<NodeId> bootstrapped = new TreeSet<>();
  /** The newest heartbeat sequence each node's dispatcher manager sent. */
  private final Map<NodeId, Long> heartbeatSeqs = new HashMap<>();
  /** The lowest resolved position each node's dispatcher manager last reported for this changefeed. */
  private final Map<NodeId, Long> resolvedByNode = new HashMap<>();
  /** First-bootstrap snapshots, until the span state is rebuilt from them. */
  private final Map<NodeId, MaintainerBootstrapResponse> snapshots = new LinkedHashMap<>();
  /** Tables whose DDL dropped them and that still have spans to remove, with the DROP's commit ts. */
  private final Map<Long, Long> dropping = new TreeMap<>();
  /** Tables created again while their dropped spans were still being removed, added once those are gone. */
  private final Map<Long, TableAdd> addsAfterDrop = new HashMap<>();
  private final SchemaChanges schemaChanges = new SchemaChanges();

  private TriggerStage stage = TriggerStage.LEARN;
  private DispatcherKey trigger;
  private long triggerCheckpointTs;
  private long triggerSentAt = NEVER;
  private List<SchemaInfo> schemas = List.of();
  /** The trigger's position the {@link #schemas} were read at. */
  private long schemasTs;
  private boolean rebuilt;
  /** The complete heartbeats after the rebuild were asked for (see {@link #askForCompleteHeartbeats}). */
  private boolean completeHeartbeatsAsked;
  private boolean working;
  private long lastBalanceMillis;
  /** The node's dispatcher drain target (DESIGN §8): nothing is placed there, and what is there moves off. */
  private DrainTarget drainTarget = DrainTarget.getDefaultInstance();
  /** Spans this maintainer is moving off the drain target, at most {@link DrainConcurrency#limit} at once. */
  private final Map<TableSpan, NodeId> drainMoves = new HashMap<>();
  private RunningError error;
  private List<CheckpointBlocker> blockers = List.of();
  private long blockersAt = NEVER;
  private boolean removing;
  /** The close of the dispatcher managers of a cascading removal; null otherwise. */
  private DispatcherCloseRounds closing;
  private long closeSentAt = NEVER;

  public ChangefeedMaintainer(MaintainerConfig config) {
    this.config = config;
    this.self = config.self();
    this.changefeed = config.changefeed();
    this.epoch = config.epoch();
    this.operators = new SpanOperatorController(spans, config.resendMillis());
    this.barrier = new Barrier(spans, schemaChanges, config.resendMillis());
    this.checkpoint = new CheckpointTracker(config.checkpointTs());
    this.basic = new BasicSpanScheduler(config.batchSize());
    this.balance = new BalanceSpanScheduler(Math.max(1, config.batchSize() / 10));
    this.triggerCheckpointTs = config.checkpointTs();
  }

  // ---- inputs ----

  /** One round: node changes, resends, scheduling, barrier actions, the checkpoint. */
  public ChangefeedMaintainerEffects tick(long nowMillis, Set<NodeId> liveNodes) {
    if (removing) {
      return tickRemoving(nowMillis, liveNodes);
    }
    ChangefeedMaintainerEffects.Builder out = new ChangefeedMaintainerEffects.Builder();
    syncNodes(liveNodes);
    for (Map.Entry<NodeId, Long> pending : bootstrapPending.entrySet()) {
      if (nowMillis - pending.getValue() >= config.resendMillis()) {
        out.toDispatchers(pending.getKey(), bootstrapRequest(null));
        pending.setValue(nowMillis);
      }
    }
    advanceTrigger(nowMillis, out);
    if (rebuilt) {
      reconcileDrops();
      if (working) {
        List<NodeId> schedulable = schedulable();
        basic.schedule(spans, operators, schedulable, this::newDispatcherId);
        drainOff(schedulable);
        // Balance pauses while a drain is active (DESIGN §8): it would fight the drain, move spans twice, and
        // on the target's own maintainer have its moves cut in half when the maintainer itself is moved.
        if (drainTargetNode() == null && nowMillis - lastBalanceMillis >= config.balanceMillis()) {
          lastBalanceMillis = nowMillis;
          int moves = balance.schedule(spans, operators, schedulable, this::newDispatcherId);
          if (moves > 0) {
            LOG.info("event=spans_balanced changefeed={} epoch={} moves={}", changefeed, Epochs.format(epoch), moves);
          }
        }
      }
      ActionBatch actions = new ActionBatch();
      barrier.tick(nowMillis, actions);
      sendActions(actions, out);
      askForCompleteHeartbeats(out);
      advanceCheckpoint();
      if (working && nowMillis - blockersAt >= BLOCKERS_REFRESH_MILLIS) {
        blockersAt = nowMillis;
        blockers = CheckpointBlockers.of(spans.all(), operators::has, this::tableName, BLOCKERS_REPORTED);
      }
    }
    sendSchedules(nowMillis, out);
    return out.build();
  }

  /**
   * A round while removing: the live nodes only tell the close which nodes left (they count as closed);
   * the controller emits only what it still runs (trigger closes); the checkpoint follows the progress
   * heartbeats reported. Nothing is bootstrapped, scheduled, healed or resent besides.
   */
  private ChangefeedMaintainerEffects tickRemoving(long nowMillis, Set<NodeId> liveNodes) {
    ChangefeedMaintainerEffects.Builder out = new ChangefeedMaintainerEffects.Builder();
    advanceCheckpoint();
    sendSchedules(nowMillis, out);
    if (closing != null && nowMillis - closeSentAt >= config.resendMillis()) {
      closeSentAt = nowMillis;
      closing.round(liveNodes).forEach(out::add);
    }
    return out.build();
  }

  private void sendSchedules(long nowMillis, ChangefeedMaintainerEffects.Builder out) {
    ScheduleBatch batch = new ScheduleBatch();
    operators.collect(nowMillis, batch);
    for (Map.Entry<NodeId, List<DispatcherSchedule>> e : batch.byNode().entrySet()) {
      out.toDispatchers(e.getKey(), ScheduleDispatcherRequest.newBuilder().setChangefeedId(changefeed.value())
          .addAllItems(e.getValue()).setEpoch(epoch).build());
    }
  }

  /**
   * The maintainer is being removed (DESIGN §8, remove handoff): from now on it is quiesced (see the
   * class comment), for good. With {@code cascade} it closes the changefeed's dispatcher managers on the
   * nodes live now ({@code removed}: dropped rather than paused), asking again every resend interval
   * until each has closed or left; without, the dispatchers keep running for the next owner and nothing
   * is sent. Returns the first close requests. Later calls change nothing.
   */
  public ChangefeedMaintainerEffects beginRemoving(long nowMillis, Set<NodeId> liveNodes, boolean cascade, boolean removed) {
    if (removing) {
      return ChangefeedMaintainerEffects.NONE;
    }
    removing = true;
    operators.quiesce();
    String reason = !cascade ? "ownership_handoff" : removed ? "changefeed_removed" : "changefeed_stopped";
    LOG.info("event=maintainer_removing changefeed={} epoch={} reason={} cascade={} removed={} working={} operators={} frozen={} "
            + "barrier_events={} checkpoint_ts={}", changefeed, Epochs.format(epoch), reason, cascade, removed, working, operators.size(),
        operators.frozen(), barrier.pending(), checkpoint.checkpointTs());
    if (!cascade) {
      return ChangefeedMaintainerEffects.NONE;
    }
    closing = new DispatcherCloseRounds(changefeed, epoch, removed, liveNodes);
    ChangefeedMaintainerEffects.Builder out = new ChangefeedMaintainerEffects.Builder();
    closeSentAt = nowMillis;
    closing.round(liveNodes).forEach(out::add);
    return out.build();
  }

  /** Removing, and done with it: the dispatcher managers are closed (cascade) or left to the next owner. */
  public boolean removalDone() {
    return removing && (closing == null || closing.closed());
  }

  public boolean removing() {
    return removing;
  }

  public ChangefeedId changefeedId() {
    return changefeed;
  }

  /** The epoch this maintainer owns its changefeed at: the only one its dispatcher side's answers may carry. */
  public long epoch() {
    return epoch;
  }

  /**
   * A message from the dispatcher side for this changefeed, at {@code nowMillis}, already admitted as an answer
   * to this maintainer's epoch (by {@link io.feedline.maintainer.DispatcherReplies}). Never throws.
   */
  public ChangefeedMaintainerEffects onMessage(NodeId from, Message message, long nowMillis) {
    ChangefeedMaintainerEffects.Builder out = new ChangefeedMaintainerEffects.Builder();
    try {
      if (message instanceof MaintainerCloseResponse m) {
        if (closing != null) {
          closing.onResponse(from, m);
        }
      } else if (removing && !(message instanceof DispatcherHeartbeat)) {
        ignoredWhileRemoving(from, message);
      } else if (message instanceof MaintainerBootstrapResponse m) {
        onBootstrapResponse(from, m, out);
      } else if (message instanceof MaintainerPostBootstrapResponse m) {
        onPostBootstrapResponse(from, m);
      } else if (message instanceof DispatcherHeartbeat m) {
        onHeartbeat(from, m, out);
        continueMoves(nowMillis, out);
      } else if (message instanceof BlockStatusRequest m) {
        onBlockStatus(from, m, out);
      }
    } catch (RuntimeException e) {
      // A bug must not take the manager's context down with it; the periodic resends heal what was missed.
      Meters.counter(config.metrics(), "feedline.maintainer.handler_failures", "Maintainer messages whose handling failed, by type",
          "type", ControlPayloads.typeOf(message)).increment();
      onceLog.warn(List.of("handler_failed", ControlPayloads.typeOf(message), String.valueOf(e)),
          () -> "event=handler_failed changefeed=" + changefeed + " epoch=" + Epochs.format(epoch) + " type="
              + ControlPayloads.typeOf(message) + " from=" + from + " error=\"" + e + "\"");
    }
    return out.build();
  }

  /**
   * While a drain runs, its moves go on at the pace of the dispatchers' replies, not of the tick: a heartbeat
   * that reports a move's origin stopped makes its create due, and one that finishes a drain move frees a
   * place for the next; both are sent now rather than a tick later. Only the timing changes: a create still
   * waits for its origin's Stopped, and what is not due yet is not sent. Outside a drain the tick paces the
   * rest (placements, balance), and a heartbeat costs no walk over the operators in flight.
   */
  private void continueMoves(long nowMillis, ChangefeedMaintainerEffects.Builder out) {
    if (!working || !rebuilt || removing || drainTargetNode() == null) {
      return;
    }
    // A dropped table's span this heartbeat freed is left to the tick's reconcileDrops: move() refuses it.
    drainOff(schedulable());
    sendSchedules(nowMillis, out);
  }

  /**
   * Bootstrap answers and block statuses only move the bootstrap and the barrier forward, which a removing
   * maintainer no longer does: answering a DDL now could let a dispatcher write it while the next owner
   * rebuilds the barrier from the blocked states. Counted, and logged once per node and type.
   */
  private void ignoredWhileRemoving(NodeId from, Message message) {
    String type = ControlPayloads.typeOf(message);
    Meters.counter(config.metrics(), "feedline.maintainer.ignored_while_removing", "Messages a maintainer ignored while its changefeed was "
        + "being removed, by type", "type", type).increment();
    onceLog.info(List.of("ignored_while_removing", from, type), () -> "event=message_ignored changefeed=" + changefeed + " epoch="
        + Epochs.format(epoch) + " type=" + type + " from=" + from + " reason=removing");
  }

  /** What the maintainer manager reports to the coordinator. */
  public MaintainerStatus status() {
    MaintainerStatus.Builder s = MaintainerStatus.newBuilder()
        .setChangefeedId(changefeed.value())
        .setState(working ? ComponentState.COMPONENT_STATE_WORKING : ComponentState.COMPONENT_STATE_INITIALIZING)
        .setCheckpointTs(checkpoint.checkpointTs())
        .setBootstrapDone(working)
        .setEpoch(epoch)
        .addAllBlockers(blockers)
        .setResolvedTs(resolvedTs());
    if (error != null) {
      s.addErrors(error);
    }
    NodeId target = drainTargetNode();
    s.setDrainProgress(DrainProgress.newBuilder().setTarget(drainTarget)
        .setDispatchersOnTarget(target == null ? 0 : spans.on(target).size())
        .setDrainMovesInFlight(drainMoves.size()));
    return s.build();
  }

  /**
   * The node-level drain target, from the maintainer manager (which applied the monotonic rules); an
   * empty node clears it. Takes effect on the next tick or dispatcher heartbeat.
   */
  public void drainTarget(DrainTarget target) {
    drainTarget = target;
    if (drainTargetNode() == null) {
      drainMoves.clear();
    }
  }

  private NodeId drainTargetNode() {
    return drainTarget.getTargetNode().isEmpty() ? null : NodeId.of(drainTarget.getTargetNode());
  }

  /**
   * Moves spans off the drain target to the least-loaded other node, keeping at most
   * {@link DrainConcurrency#limit} of these moves in flight; a finished move frees its place. A maintainer
   * running on the target itself moves nothing.
   */
  private void drainOff(List<NodeId> destinations) {
    NodeId target = drainTargetNode();
    drainMoves.keySet().removeIf(span -> !operators.has(span));
    // Maintainers leave the target first (DESIGN §8): this one is about to be moved, and a move it started
    // would be cut in half (origin stopped, destination never created), leaving the span unreplicated until
    // the successor has bootstrapped and placed it again. The successor drains the spans.
    if (target == null || target.equals(self) || destinations.isEmpty()) {
      return;
    }
    int limit = DrainConcurrency.limit(spans.size());
    if (drainMoves.size() >= limit) {
      return; // before listing the target's spans: this runs on every heartbeat of a drain
    }
    // A moving span still counts on its origin: without its destination's share of the moves in flight, one
    // round would send all of them to the same least-loaded node.
    Map<NodeId, Integer> load = new HashMap<>();
    destinations.forEach(node -> load.put(node, spans.loadOf(node)));
    drainMoves.values().forEach(node -> load.computeIfPresent(node, (n, l) -> l + 1));
    for (TableSpan span : spans.on(target)) {
      if (drainMoves.size() >= limit) {
        return;
      }
      NodeId destination = destinations.stream().min(Comparator.comparingInt(load::get)).orElseThrow();
      if (move(span, destination)) {
        drainMoves.put(span, destination);
        load.merge(destination, 1, Integer::sum);
      }
    }
  }

  // ---- nodes ----

  private void syncNodes(Set<NodeId> live) {
    for (NodeId gone : List.copyOf(nodes)) {
      if (!live.contains(gone)) {
        nodeRemoved(gone);
      }
    }
    for (NodeId joined : live) {
      if (nodes.add(joined)) {
        // A node that joins while bootstrapping is bootstrapped too; later, so that spans may be placed on it.
        bootstrapPending.put(joined, NEVER);
      }
    }
  }

  private void nodeRemoved(NodeId node) {
    nodes.remove(node);
    bootstrapPending.remove(node);
    bootstrapped.remove(node);
    heartbeatSeqs.remove(node);
    resolvedByNode.remove(node);
    snapshots.remove(node);
    checkpoint.forget(node);
    operators.onNodeRemoved(node);
    int lost = 0;
    for (TableSpan s : spans.on(node)) {
      if (!operators.has(s)) {
        spans.markAbsent(s, spans.get(s).checkpointTs());
        lost++;
      }
    }
    LOG.info("event=node_removed changefeed={} epoch={} node={} spans_absent={}", changefeed, Epochs.format(epoch), node, lost);
  }

  private List<NodeId> schedulable() {
    List<NodeId> out = new ArrayList<>();
    NodeId target = drainTargetNode();
    for (NodeId n : bootstrapped) {
      if (nodes.contains(n) && !n.equals(target)) {
        out.add(n);
      }
    }
    return out;
  }

  // ---- bootstrap ----

  private MaintainerBootstrapRequest bootstrapRequest(DispatcherKey withTrigger) {
    MaintainerBootstrapRequest.Builder r = MaintainerBootstrapRequest.newBuilder()
        .setChangefeedId(changefeed.value())
        .setConfig(config.info().toByteString())
        .setStartTs(checkpoint.checkpointTs())
        .setIsNewChangefeed(config.isNew())
        .setEpoch(epoch)
        .setAcceptsPartialHeartbeats(true);
    if (withTrigger != null) {
      r.setTableTriggerEventDispatcherId(withTrigger.proto());
    }
    return r.build();
  }

  private void onBootstrapResponse(NodeId from, MaintainerBootstrapResponse response, ChangefeedMaintainerEffects.Builder out) {
    if (response.hasError()) {
      if (from.equals(self) && TRIGGER_MISMATCH.equals(response.getError().getCode())) {
        // The manager holds a trigger we did not expect (it changed since its snapshot): learn it again.
        relearnTrigger("bootstrap_" + TRIGGER_MISMATCH);
      } else {
        error = response.getError();
        onceLog.warn(List.of("bootstrap_error", from, response.getError().getCode()),
            () -> "event=bootstrap_error changefeed=" + changefeed + " epoch=" + Epochs.format(epoch) + " node=" + from
                + " code=" + response.getError().getCode() + " detail=\"" + response.getError().getMessage() + "\"");
      }
      return;
    }
    if (from.equals(self) && stage == TriggerStage.CREATE && trigger != null && answersTriggerRequest(response)) {
      triggerCreated(response);
      return;
    }
    if (bootstrapPending.remove(from) == null) {
      return; // a duplicate answer to a resend
    }
    bootstrapped.add(from);
    if (error != null && error.getNodeId().equals(from.value())) {
      error = null;
    }
    if (!rebuilt) {
      snapshots.put(from, response);
      return;
    }
    // A node (re)joined after the rebuild: what it hosts is judged like any heartbeat.
    DispatcherHeartbeat.Builder asHeartbeat = DispatcherHeartbeat.newBuilder();
    response.getDispatchersList().forEach(d -> asHeartbeat.addStatuses(SpanStatus.newBuilder().setId(d.getId()).setState(d.getState())
        .setCheckpointTs(d.getCheckpointTs()).setBlockState(d.getBlockState())));
    onStatuses(from, asHeartbeat.getStatusesList(), out);
    if (from.equals(self) && stage == TriggerStage.LEARN) {
      chooseTrigger(response);
    }
  }

  /** Moves the table trigger's setup forward as far as the answers so far allow. */
  private void advanceTrigger(long nowMillis, ChangefeedMaintainerEffects.Builder out) {
    if (stage == TriggerStage.LEARN && !rebuilt && bootstrapPending.isEmpty() && snapshots.containsKey(self)) {
      chooseTrigger(snapshots.get(self));
      // Another node's trigger (a previous owner's) must stop before ours starts: one DDL writer.
      for (Map.Entry<NodeId, MaintainerBootstrapResponse> e : snapshots.entrySet()) {
        if (e.getKey().equals(self)) {
          continue;
        }
        e.getValue().getDispatchersList().stream()
            .filter(d -> d.getSpan().getTableId() == TableSpans.DDL_TABLE_ID && !d.getRedo() && live(d.getState()))
            .forEach(d -> operators.closeTrigger(e.getKey(), DispatcherKey.of(d.getId()), d.getSpan()));
      }
      stage = TriggerStage.CLEAR_REMOTE;
    }
    if (stage == TriggerStage.CLEAR_REMOTE && operators.straysOfTable(TableSpans.DDL_TABLE_ID) == 0) {
      stage = TriggerStage.CREATE;
      triggerSentAt = NEVER;
    }
    if (stage == TriggerStage.CREATE && nowMillis - triggerSentAt >= config.resendMillis()) {
      out.toDispatchers(self, bootstrapRequest(trigger));
      triggerSentAt = nowMillis;
    } else if (stage == TriggerStage.POST && nowMillis - triggerSentAt >= config.resendMillis()) {
      out.toDispatchers(self, MaintainerPostBootstrapRequest.newBuilder().setChangefeedId(changefeed.value())
          .setTableTriggerEventDispatcherId(trigger.proto()).addAllSchemas(schemas).setEpoch(epoch).build());
      triggerSentAt = nowMillis;
    }
  }

  /** Adopts the trigger this node already holds (a reused manager), or draws a fresh id. */
  private void chooseTrigger(MaintainerBootstrapResponse own) {
    DispatcherKey found = own.getDispatchersList().stream()
        .filter(d -> d.getSpan().getTableId() == TableSpans.DDL_TABLE_ID && !d.getRedo() && live(d.getState()))
        .map(d -> DispatcherKey.of(d.getId()))
        .findFirst().orElse(null);
    trigger = found != null ? found : newDispatcherId();
    barrier.trigger(trigger, self);
    LOG.info("event=table_trigger_chosen changefeed={} epoch={} trigger={} adopted={}", changefeed, Epochs.format(epoch), trigger, found != null);
    stage = rebuilt ? TriggerStage.CREATE : TriggerStage.LEARN;
    triggerSentAt = NEVER;
  }

  private void relearnTrigger(String why) {
    LOG.info("event=table_trigger_relearn changefeed={} epoch={} trigger={} reason={}", changefeed, Epochs.format(epoch), trigger, why);
    trigger = null;
    barrier.trigger(null, null);
    stage = TriggerStage.LEARN;
    bootstrapPending.put(self, NEVER);
    snapshots.remove(self);
  }

  /**
   * The answer to the request naming the trigger: it lists the tables (a plain snapshot never does) and
   * holds the trigger. A late answer to an earlier plain request must not pass for it.
   */
  private boolean answersTriggerRequest(MaintainerBootstrapResponse response) {
    return response.getSchemasAtStartCount() > 0 && response.getDispatchersList().stream().anyMatch(d -> trigger.equals(DispatcherKey.of(d.getId())));
  }

  /** This node holds the trigger now and said which tables exist where it resumes. */
  private void triggerCreated(MaintainerBootstrapResponse own) {
    triggerCheckpointTs = Math.max(triggerCheckpointTs, own.getTriggerCheckpointTs());
    schemas = own.getSchemasAtStartList();
    schemasTs = own.getTriggerCheckpointTs();
    if (!rebuilt) {
      snapshots.put(self, own);
      rebuild();
    }
    stage = TriggerStage.POST;
    triggerSentAt = NEVER;
  }

  private void onPostBootstrapResponse(NodeId from, MaintainerPostBootstrapResponse response) {
    if (!from.equals(self) || stage != TriggerStage.POST || !trigger.equals(DispatcherKey.of(response.getTableTriggerEventDispatcherId()))) {
      return;
    }
    if (response.hasError()) {
      relearnTrigger("post_bootstrap_" + response.getError().getCode());
      return;
    }
    stage = TriggerStage.READY;
    if (!working) {
      working = true;
      LOG.info("event=maintainer_working changefeed={} epoch={} spans={} absent={} operators={} checkpoint_ts={} trigger={}", changefeed,
          Epochs.format(epoch), spans.size(), spans.absent().size(), operators.size(), checkpoint.checkpointTs(), trigger);
    }
  }

  /** The span state from the first bootstrap's snapshots and journals, then the barrier from their block states. */
  private void rebuild() {
    SpanStateRecovery.Outcome r = SpanStateRecovery.rebuild(snapshots, schemas, trigger, schemasTs, checkpoint.checkpointTs(), spans, operators);
    rebuilt = true;
    ActionBatch none = new ActionBatch(); // a new barrier has decided nothing yet, so it has nothing to answer at once
    snapshots.get(self).getDispatchersList().stream()
        .filter(d -> trigger.equals(DispatcherKey.of(d.getId())) && d.getBlockState().getBlocked())
        .forEach(d -> barrier.onBlockState(trigger, self, d.getBlockState(), d.getCheckpointTs(), none));
    for (SpanStateRecovery.Found f : r.kept()) {
      if (f.snapshot().getBlockState().getBlocked()) {
        barrier.onBlockState(f.id(), f.node(), f.snapshot().getBlockState(), f.snapshot().getCheckpointTs(), none);
      }
    }
    snapshots.keySet().forEach(checkpoint::reported);
    snapshots.clear();
    LOG.info("event=spans_rebuilt changefeed={} epoch={} tables={} spans={} kept={} restored_removes={} operators={} strays={} absent={} "
            + "barrier_events={} trigger={}", changefeed, Epochs.format(epoch), r.tables(), spans.size(), r.kept().size(), r.restoredRemoves(),
        operators.size(), r.strays(), r.absent(), barrier.pending(), trigger);
  }

  // ---- heartbeats and self-healing ----

  private void onHeartbeat(NodeId from, DispatcherHeartbeat heartbeat, ChangefeedMaintainerEffects.Builder out) {
    if (!bootstrapped.contains(from) || !nodes.contains(from)) {
      return;
    }
    if (!rebuilt) {
      // Only the removals of other nodes' triggers run before the rebuild.
      heartbeat.getStatusesList().forEach(s -> operators.onStatus(from, DispatcherKey.of(s.getId()), s.getState(), s.getCheckpointTs()));
      return;
    }
    checkpoint.reported(from);
    boolean stale = staleHeartbeat(from, heartbeat);
    if (!stale) {
      if (heartbeat.hasWatermark()) {
        resolvedByNode.put(from, heartbeat.getWatermark().getResolvedTs());
      } else {
        resolvedByNode.remove(from); // no dispatcher left there: it holds nothing back
      }
    }
    Set<DispatcherKey> seen = onStatuses(from, heartbeat.getStatusesList(), out);
    for (RunningError e : heartbeat.getErrorsList()) {
      onceLog.warn(List.of("dispatcher_error", from, e.getMessage()), () -> "event=dispatcher_error changefeed=" + changefeed + " epoch="
          + Epochs.format(epoch) + " node=" + from + " code=" + e.getCode() + " detail=\"" + e.getMessage() + "\"");
      if (RunningErrorCodes.SINK_ERROR.equals(e.getCode()) && error == null) {
        // A write that can never succeed as things stand (a table without primary key...): re-creating the
        // dispatcher would only fail again, so it becomes the changefeed's error (warning, retry, failed).
        error = e;
      }
    }
    if (removing) {
      return; // self-healing (vanished spans, a lost trigger) is the next owner's: it decides from the same dispatchers
    }
    if (heartbeat.getPartial() || stale) {
      // Partial: only what changed, so a dispatcher missing from it is merely unchanged. Stale (a duplicate,
      // or a late copy overtaken by a newer one): it predates dispatchers created since, which it lacks.
      return;
    }
    // A complete heartbeat lists every dispatcher of its manager: a Working span missing from it has
    // stopped, even if its one Stopped report was lost.
    List<SpanReplication> vanished = new ArrayList<>();
    spans.forEachOn(from, r -> {
      if (r.working() && !seen.contains(r.dispatcher()) && !operators.has(r.span())) {
        vanished.add(r);
      }
    });
    for (SpanReplication r : vanished) {
      LOG.info("event=span_vanished changefeed={} epoch={} span={} dispatcher={} node={}", changefeed, Epochs.format(epoch),
          TableSpans.format(r.span()), r.dispatcher(), from);
      spans.markAbsent(r.span(), r.checkpointTs());
    }
    if (from.equals(self) && stage == TriggerStage.READY && !seen.contains(trigger)) {
      triggerLost("vanished");
    }
  }

  /**
   * Whether {@code heartbeat} is not newer than the last one {@code from} sent (its manager numbers them):
   * the network may duplicate, delay and reorder them. Remembers the newest sequence seen.
   */
  private boolean staleHeartbeat(NodeId from, DispatcherHeartbeat heartbeat) {
    long seq = heartbeat.getSeq();
    if (seq == 0) {
      return false; // a sender that does not number its heartbeats
    }
    Long last = heartbeatSeqs.get(from);
    if (last != null && seq <= last) {
      return true;
    }
    heartbeatSeqs.put(from, seq);
    return false;
  }

  /** Applies dispatcher statuses from {@code from}; returns the ids seen. */
  private Set<DispatcherKey> onStatuses(NodeId from, List<SpanStatus> statuses, ChangefeedMaintainerEffects.Builder out) {
    Set<DispatcherKey> seen = new HashSet<>(statuses.size() * 2);
    ActionBatch actions = new ActionBatch();
    for (SpanStatus st : statuses) {
      DispatcherKey id = DispatcherKey.of(st.getId());
      ComponentState state = st.getState();
      if (live(state)) {
        seen.add(id);
      }
      SpanReplication replication = spans.byDispatcher(id);
      // Where the span was bound before this status: a Stopped one unbinds it (or hands it to a move's destination).
      NodeId boundTo = replication == null ? null : replication.node();
      if (id.equals(trigger)) {
        if (from.equals(self)) {
          triggerCheckpointTs = Math.max(triggerCheckpointTs, st.getCheckpointTs());
          if (stopped(state) && stage == TriggerStage.READY && !removing) {
            triggerLost("stopped");
          }
        }
      } else if (!operators.onStatus(from, id, state, st.getCheckpointTs())) {
        onUnclaimedStatus(from, id, st);
      }
      if (replication != null && from.equals(boundTo)) {
        spans.observe(replication, st);
      }
      if (!removing && live(state) && (st.getBlockState().getBlocked() || barrier.pending() > 0)) {
        barrier.onBlockState(id, from, st.getBlockState(), st.getCheckpointTs(), actions);
      }
    }
    sendActions(actions, out);
    return seen;
  }

  /**
   * A status no operator claimed: progress of a known span, self-healing, or a stray to remove (which a
   * quiesced controller refuses). While removing only the progress counts: the next owner heals from the
   * same statuses, and two healers would place a span twice.
   */
  private void onUnclaimedStatus(NodeId from, DispatcherKey id, SpanStatus st) {
    SpanReplication r = spans.byDispatcher(id);
    if (r == null) {
      if (from.equals(self) && stage != TriggerStage.READY) {
        return; // this node's trigger is being settled: an unknown dispatcher here may be the one about to be adopted
      }
      if (live(st.getState()) && operators.removeStray(from, id, TableSpan.getDefaultInstance())) {
        // A dispatcher nobody asked for (an older owner's leftover) would be a second writer of its span.
        LOG.info("event=stray_dispatcher changefeed={} epoch={} dispatcher={} node={} action=remove", changefeed, Epochs.format(epoch), id, from);
      }
      return;
    }
    if (!from.equals(r.node())) {
      return;
    }
    if (stopped(st.getState())) {
      if (removing) {
        return;
      }
      LOG.info("event=span_stopped changefeed={} epoch={} span={} dispatcher={} node={} action=absent", changefeed, Epochs.format(epoch),
          TableSpans.format(r.span()), id, from);
      spans.markAbsent(r.span(), Math.max(r.checkpointTs(), st.getCheckpointTs()));
    } else if (st.getState() == ComponentState.COMPONENT_STATE_WORKING) {
      spans.working(r.span(), st.getCheckpointTs());
    } else {
      spans.advance(r, st.getCheckpointTs());
    }
  }

  private void triggerLost(String why) {
    LOG.warn("event=table_trigger_lost changefeed={} epoch={} trigger={} reason={} action=recreate", changefeed, Epochs.format(epoch), trigger, why);
    relearnTrigger("trigger_" + why);
  }

  private void onBlockStatus(NodeId from, BlockStatusRequest request, ChangefeedMaintainerEffects.Builder out) {
    if (!rebuilt || !bootstrapped.contains(from)) {
      return;
    }
    ActionBatch actions = new ActionBatch();
    for (SpanBlockStatus s : request.getStatusesList()) {
      // The block state alone says where it stands; 0 keeps an old checkpoint from reading as "passed".
      barrier.onBlockState(DispatcherKey.of(s.getId()), from, s.getState(), 0, actions);
    }
    sendActions(actions, out);
  }

  /**
   * Once after the rebuild, every bootstrapped node is asked for a complete heartbeat: the ones set aside
   * before it may have carried the one report of a dispatcher that stopped, and a partial heartbeat
   * would not mention that dispatcher again until the next complete one, seconds later.
   */
  private void askForCompleteHeartbeats(ChangefeedMaintainerEffects.Builder out) {
    if (completeHeartbeatsAsked) {
      return;
    }
    completeHeartbeatsAsked = true;
    for (NodeId node : bootstrapped) {
      out.toDispatchers(node, HeartbeatResponse.newBuilder().setChangefeedId(changefeed.value()).setEpoch(epoch).setSendComplete(true).build());
    }
  }

  private void sendActions(ActionBatch actions, ChangefeedMaintainerEffects.Builder out) {
    for (Map.Entry<NodeId, List<DispatcherAction>> e : actions.byNode().entrySet()) {
      out.toDispatchers(e.getKey(), HeartbeatResponse.newBuilder().setChangefeedId(changefeed.value()).addAllActions(e.getValue())
          .setEpoch(epoch).build());
    }
  }

  // ---- checkpoint ----

  /** Where the source has got to: the lowest resolved position the nodes hosting this changefeed reported; 0 before any. */
  private long resolvedTs() {
    long min = Long.MAX_VALUE;
    for (long resolved : resolvedByNode.values()) {
      min = Math.min(min, resolved);
    }
    return min == Long.MAX_VALUE ? 0 : min;
  }

  /** {@code schema.table} as the source listed it when the trigger started, or null for a table created since. */
  private String tableName(long tableId) {
    for (SchemaInfo schema : schemas) {
      for (TableInfo table : schema.getTablesList()) {
        if (table.getTableId() == tableId) {
          return schema.getName().isEmpty() ? table.getName() : schema.getName() + "." + table.getName();
        }
      }
    }
    return null;
  }

  private void advanceCheckpoint() {
    if (!working) {
      return;
    }
    long candidate = Math.min(triggerCheckpointTs, Math.min(operators.checkpointFloor(), barrier.checkpointFloor()));
    candidate = Math.min(candidate, spans.minCheckpointTs());
    // A CREATE whose span waits for the dropped one's removal is not applied yet: its table has no span to
    // hold the checkpoint, and passing its ts would start the table later than its CREATE in whoever
    // resumes from here (a removing maintainer never gets to add it).
    for (TableAdd add : addsAfterDrop.values()) {
      candidate = Math.min(candidate, add.startTs());
    }
    Set<NodeId> hosting = new HashSet<>(spans.hostingNodes());
    hosting.add(self);
    checkpoint.advance(hosting, candidate);
  }

  // ---- schema changes from the barrier ----

  /**
   * A dropped table's spans are removed (and forgotten) once no operator holds them. Only the spans below
   * the DROP: a span of the table at or past it replicates a later incarnation (a span never passes its own
   * table's DROP), which a trigger replaying the DROP from an older checkpoint must leave alone.
   */
  private void reconcileDrops() {
    for (Map.Entry<Long, Long> drop : List.copyOf(dropping.entrySet())) {
      long table = drop.getKey();
      List<TableSpan> dropped = droppedSpans(table, drop.getValue());
      for (TableSpan s : dropped) {
        if (operators.has(s)) {
          continue;
        }
        SpanReplication r = spans.get(s);
        if (r.absent()) {
          spans.delete(s);
        } else {
          operators.add(new RemoveSpan(s, r.node(), r.dispatcher(), RemoveSpan.Then.DELETE, OperatorType.OPERATOR_TYPE_REMOVE));
        }
      }
      if (droppedSpans(table, drop.getValue()).isEmpty()) {
        dropping.remove(table);
        TableAdd add = addsAfterDrop.remove(table);
        if (add != null) {
          schemaChanges.addTable(add.table(), add.startTs());
        }
      }
    }
  }

  /** A span below its table's DROP: {@link #reconcileDrops} removes it, and nothing may move it back to life first. */
  private boolean beingDropped(TableSpan span, SpanReplication r) {
    Long dropTs = dropping.get(span.getTableId());
    return dropTs != null && Long.compareUnsigned(r.checkpointTs(), dropTs) < 0;
  }

  private List<TableSpan> droppedSpans(long table, long dropTs) {
    return spans.ofTable(table).stream().filter(s -> Long.compareUnsigned(spans.get(s).checkpointTs(), dropTs) < 0).toList();
  }

  /** A CREATE of a table whose previous incarnation's spans are still being removed. */
  private record TableAdd(TableInfo table, long startTs) {}

  private final class SchemaChanges implements Barrier.SchemaChanges {
    @Override
    public void dropTable(long tableId, long dropTs) {
      List<TableSpan> dropped = droppedSpans(tableId, dropTs);
      LOG.info("event=table_dropped changefeed={} epoch={} table={} drop_ts={} spans={} later_spans={}", changefeed, Epochs.format(epoch),
          tableId, dropTs, dropped.size(), spans.ofTable(tableId).size() - dropped.size());
      dropping.put(tableId, dropTs);
      reconcileDrops();
    }

    /**
     * A table created at {@code startTs}: every key range of it that no span covers gets an absent span
     * from there. If it was dropped just before and the old spans are still being removed, that waits until
     * they are gone (adding now would overlap them and be refused, and the table would never be
     * replicated). Ranges already covered (a resend, a span rebuilt after a failover, a later incarnation's
     * span found by a trigger replaying from an older checkpoint) are left as they are.
     */
    @Override
    public void addTable(TableInfo table, long startTs) {
      long id = table.getTableId();
      if (dropping.containsKey(id)) {
        LOG.info("event=table_add_after_drop changefeed={} epoch={} table={} start_ts={}", changefeed, Epochs.format(epoch), id, startTs);
        addsAfterDrop.put(id, new TableAdd(table, startTs));
        return;
      }
      List<TableSpan> gaps = TableSpans.gaps(id, spans.ofTable(id));
      if (gaps.isEmpty()) {
        return;
      }
      LOG.info("event=table_added changefeed={} epoch={} table={} start_ts={} spans={}", changefeed, Epochs.format(epoch), id, startTs, gaps.size());
      gaps.forEach(gap -> spans.addAbsent(gap, 0, startTs));
    }
  }

  // ---- operations for the admin surface and tests ----

  /** Splits a replicated span with no operator at {@code keys}. Returns whether the split started. */
  public boolean split(TableSpan span, List<ByteString> keys) {
    SpanReplication r = spans.get(span);
    if (!working || r == null || r.absent() || operators.has(span) || keys.isEmpty()
        || !keys.stream().allMatch(k -> TableSpans.strictlyInside(span, k))) {
      return false;
    }
    return operators.add(ReplaceSpans.split(r, TableSpans.splitAt(span, keys)));
  }

  /** Merges adjacent replicated spans of one table, none with an operator. Returns whether the merge started. */
  public boolean merge(List<TableSpan> parts) {
    Optional<TableSpan> merged = TableSpans.union(parts);
    if (!working || parts.size() < 2 || merged.isEmpty()) {
      return false;
    }
    List<TableSpan> sorted = new ArrayList<>(parts);
    sorted.sort(TableSpans.ORDER);
    List<SpanReplication> rs = new ArrayList<>();
    for (TableSpan part : sorted) {
      SpanReplication r = spans.get(part);
      if (r == null || r.absent() || operators.has(r.span())) {
        return false;
      }
      rs.add(r);
    }
    return operators.add(ReplaceSpans.merge(rs, merged.get()));
  }

  /** Moves a replicated span with no operator to {@code destination}. Returns whether the move started. */
  public boolean move(TableSpan span, NodeId destination) {
    SpanReplication r = spans.get(span);
    if (!working || r == null || r.absent() || operators.has(span) || destination.equals(r.node()) || !schedulable().contains(destination)
        || beingDropped(span, r)) {
      return false;
    }
    return operators.add(new MoveSpan(span, r.schemaId(), r.node(), r.dispatcher(), destination, newDispatcherId()));
  }

  public SpanController spans() {
    return spans;
  }

  public SpanOperatorController operators() {
    return operators;
  }

  public Barrier barrier() {
    return barrier;
  }

  public DispatcherKey trigger() {
    return trigger;
  }

  public boolean working() {
    return working;
  }

  TriggerStage triggerStage() {
    return stage;
  }

  // ---- helpers ----

  private DispatcherKey newDispatcherId() {
    return DispatcherKey.random(config.random());
  }

  private static boolean live(ComponentState state) {
    return state == ComponentState.COMPONENT_STATE_WORKING || state == ComponentState.COMPONENT_STATE_INITIALIZING;
  }

  private static boolean stopped(ComponentState state) {
    return state == ComponentState.COMPONENT_STATE_STOPPED || state == ComponentState.COMPONENT_STATE_REMOVED;
  }
}
