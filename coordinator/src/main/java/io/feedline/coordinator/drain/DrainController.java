package io.feedline.coordinator.drain;

import io.feedline.common.drain.DrainConcurrency;
import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.drain.NodeLivenessState;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.ReportFence;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.Scheduler;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's node-drain decisions (DESIGN §8), one target at a time: what every node last
 * reported (liveness, node epoch, acknowledged target, dispatchers), the current drain target and
 * its epoch, which nodes may receive maintainers, whether balancing is paused, and the liveness the
 * drained node is told to take. Returns the messages to send; the coordinator sends them and moves the
 * maintainers. Reads time only from the injected scheduler. Owned by the coordinator's context.
 *
 * <ul>
 *   <li>The target is broadcast to every node and re-sent every {@code drain-target-resend} to each node
 *       that has not acknowledged it in a node heartbeat.
 *   <li>While a target is set, a node is a placement destination only once it acknowledged exactly that
 *       target (its maintainers then place nothing on the drained node); the drained node never is.
 *   <li>The drained node is told DRAINING, then STOPPING once nothing is left on it; re-sent every
 *       {@code liveness-resend} until its heartbeats report it, always with the node epoch it reported.
 *   <li>The target is cleared (same epoch) when the drained node leaves; balancing stays paused for
 *       {@code drain-balance-cooldown} after that, so maintainers do not flap back at once.
 * </ul>
 */
public final class DrainController {

  private static final Logger LOG = LoggerFactory.getLogger(DrainController.class);

  public record Settings(Duration targetResend, Duration livenessResend, Duration balanceCooldown) {}

  /** What a node last reported; {@code nodeEpoch} 0 until its first heartbeat or liveness answer. */
  public record NodeReport(NodeLivenessState liveness, long nodeEpoch, NodeDrainTarget acknowledged, long dispatchers,
      long metastoreUnreachableSinceMs) {
    static final NodeReport UNHEARD = new NodeReport(NodeLivenessState.ALIVE, 0, NodeDrainTarget.NONE, 0, 0);
  }

  /**
   * How much of a drain is left; {@link #remaining()} is the larger of the four, so 0 means no maintainer
   * and no dispatcher is on the target, no move is in flight and every changefeed has seen the target.
   */
  public record Progress(long maintainersOnTarget, long dispatchersOnTarget, long movesInFlight, long notAcknowledging) {
    public static final Progress NONE = new Progress(0, 0, 0, 0);

    public long remaining() {
      return Math.max(Math.max(maintainersOnTarget, dispatchersOnTarget), Math.max(movesInFlight, notAcknowledging));
    }
  }

  /** Whether a drain of a node may start now. */
  public sealed interface Check {
    /** Refused with a reason the caller shows. */
    record Refused(Reason reason, String message) implements Check {}

    /** The coordinator runs on the node to drain: it must hand its leadership over first. */
    record ResignFirst() implements Check {}

    /** That node's drain is already under way: answer with its progress. */
    record InProgress() implements Check {}

    /** Start it, with a new drain epoch. */
    record Start() implements Check {}

    enum Reason { UNKNOWN_NODE, LAST_NODE, OTHER_DRAIN_IN_PROGRESS }
  }

  private static final class NodeState {
    NodeReport report = NodeReport.UNHEARD;
    /** The newest report applied: an older one arriving later is dropped. */
    ReportFence reports = ReportFence.INITIAL;
    long targetSentAt = Long.MIN_VALUE / 2;
    long livenessSentAt = Long.MIN_VALUE / 2;
  }

  private final long electionVersion;
  private final Scheduler clock;
  private final Settings settings;
  private final Map<NodeId, NodeState> nodes = new TreeMap<>();
  private NodeDrainTarget target = NodeDrainTarget.NONE;
  /** The liveness the drained node is to reach: DRAINING, then STOPPING once nothing is left. */
  private NodeLiveness wanted = NodeLiveness.NODE_LIVENESS_DRAINING;
  private long clearedAtMillis = Long.MIN_VALUE / 2;

  public DrainController(long electionVersion, Scheduler clock, Settings settings) {
    this.electionVersion = electionVersion;
    this.clock = clock;
    this.settings = settings;
  }

  // ---- membership and reports ----

  /** A node joined: it learns the current target (if any drain ever happened) at once. */
  public List<Outbound> onNodeJoined(NodeId node) {
    if (nodes.containsKey(node)) {
      return List.of();
    }
    nodes.put(node, new NodeState());
    return target.epoch() == Epochs.COMPAT ? List.of() : List.of(sendTarget(node, nodes.get(node)));
  }

  /** A node left; if it was the drained one, the target is cleared at its epoch and broadcast. */
  public List<Outbound> onNodeLeft(NodeId node) {
    if (nodes.remove(node) == null || !node.equals(target.node())) {
      return List.of();
    }
    LOG.info("event=drain_target_cleared node={} epoch={} reason=node_left", node, Epochs.format(target.epoch()));
    return clear();
  }

  /**
   * A node's heartbeat, applied if it is the newest report of that node; a node this coordinator does not
   * count as live is ignored (its report comes again once membership has it): empty. Returns the fence's decision.
   */
  public Optional<ReportFence.Decision> onNodeHeartbeat(NodeId from, NodeHeartbeat heartbeat) {
    return report(from, heartbeat.getNodeEpoch(), heartbeat.getSeq(), state -> new NodeReport(
        new NodeLivenessState(known(heartbeat.getLiveness())), heartbeat.getNodeEpoch(), NodeDrainTarget.of(heartbeat.getDrainTargetAcknowledged()),
        heartbeat.getDispatchers(), heartbeat.getMetastoreUnreachableSinceMs()));
  }

  /** A node's answer to a liveness command, applied as {@link #onNodeHeartbeat} is. */
  public Optional<ReportFence.Decision> onLivenessResponse(NodeId from, SetNodeLivenessResponse response) {
    return report(from, response.getNodeEpoch(), response.getSeq(), state -> new NodeReport(
        new NodeLivenessState(known(response.getLiveness())), response.getNodeEpoch(), state.report.acknowledged(), state.report.dispatchers(),
        state.report.metastoreUnreachableSinceMs()));
  }

  private Optional<ReportFence.Decision> report(NodeId from, long nodeEpoch, long seq, Function<NodeState, NodeReport> next) {
    NodeState state = nodes.get(from);
    if (state == null) {
      return Optional.empty();
    }
    ReportFence.Decision decision = state.reports.admit(nodeEpoch, seq);
    if (decision.accepted()) {
      state.reports = decision.next();
      state.report = next.apply(state);
    }
    return Optional.of(decision);
  }

  /**
   * A node's answer to this coordinator's bootstrap carries the target it applied: a drain started by an
   * earlier coordinator continues under this one (its epoch came from the same monotonic oracle).
   */
  public List<Outbound> onBootstrapTarget(NodeId from, DrainTarget acknowledged) {
    NodeDrainTarget seen = NodeDrainTarget.of(acknowledged);
    NodeDrainTarget.Update update = target.offer(seen);
    if (update.outcome() != NodeDrainTarget.Outcome.APPLIED) {
      return List.of();
    }
    LOG.info("event=drain_target_adopted target={} previous={} from={}", seen, target, from);
    target = seen;
    wanted = NodeLiveness.NODE_LIVENESS_DRAINING;
    if (!seen.active()) {
      clearedAtMillis = clock.nowMillis();
      return broadcast();
    }
    // The drained node left while no coordinator watched: clear it now.
    return nodes.containsKey(seen.node()) ? broadcast() : clear();
  }

  // ---- starting a drain ----

  public Check check(NodeId node, NodeId self) {
    if (!nodes.containsKey(node)) {
      return new Check.Refused(Check.Reason.UNKNOWN_NODE, "node " + node + " is not a live member of the cluster");
    }
    if (target.active() && !target.node().equals(node)) {
      String state = wanted == NodeLiveness.NODE_LIVENESS_STOPPING ? " is drained but has not left the cluster yet" : " is being drained";
      return new Check.Refused(Check.Reason.OTHER_DRAIN_IN_PROGRESS, "node " + target.node() + state + "; one drain at a time");
    }
    boolean othersAlive = nodes.entrySet().stream().anyMatch(e -> !e.getKey().equals(node) && e.getValue().report.liveness().schedulable());
    if (!othersAlive) {
      return new Check.Refused(Check.Reason.LAST_NODE, "node " + node + " is the last live node: nowhere to move its work");
    }
    if (node.equals(self)) {
      return new Check.ResignFirst();
    }
    return target.active() ? new Check.InProgress() : new Check.Start();
  }

  /** Starts draining {@code node} at {@code epoch} (from the timestamp oracle, above every earlier drain epoch). */
  public List<Outbound> start(NodeId node, long epoch) {
    NodeDrainTarget.Update update = target.offer(NodeDrainTarget.set(node, epoch));
    if (update.outcome() != NodeDrainTarget.Outcome.APPLIED) {
      throw new IllegalStateException("drain epoch " + Epochs.format(epoch) + " is not above the current target " + target);
    }
    LOG.info("event=drain_started node={} epoch={} previous={}", node, Epochs.format(epoch), target);
    target = update.next();
    wanted = NodeLiveness.NODE_LIVENESS_DRAINING;
    List<Outbound> out = broadcast();
    out.addAll(livenessCommand(clock.nowMillis()));
    return out;
  }

  // ---- periodic ----

  /** Resends the target to nodes that have not acknowledged it, and drives the drained node's liveness. */
  public List<Outbound> tick(Progress progress) {
    long now = clock.nowMillis();
    List<Outbound> out = new ArrayList<>();
    if (target.epoch() != Epochs.COMPAT) {
      nodes.forEach((node, state) -> {
        if (!state.report.acknowledged().equals(target) && now - state.targetSentAt >= settings.targetResend().toMillis()) {
          out.add(sendTarget(node, state));
        }
      });
    }
    if (target.active()) {
      if (progress.remaining() == 0 && wanted != NodeLiveness.NODE_LIVENESS_STOPPING) {
        LOG.info("event=drain_done node={} epoch={} action=stopping", target.node(), Epochs.format(target.epoch()));
        wanted = NodeLiveness.NODE_LIVENESS_STOPPING;
        NodeState drained = nodes.get(target.node());
        if (drained != null) {
          drained.livenessSentAt = Long.MIN_VALUE / 2; // ask at once, not a resend interval after DRAINING
        }
      }
      out.addAll(livenessCommand(now));
    }
    return out;
  }

  // ---- queries ----

  public NodeDrainTarget target() {
    return target;
  }

  /** May a maintainer be placed on {@code node} now? */
  public boolean isDestination(NodeId node) {
    NodeState state = nodes.get(node);
    if (state == null || !state.report.liveness().schedulable()) {
      return false;
    }
    if (!target.active()) {
      return true;
    }
    return !node.equals(target.node()) && state.report.acknowledged().equals(target);
  }

  /** Balancing moves nothing while a drain runs, nor for a while after its target cleared. */
  public boolean balancePaused() {
    return target.active() || clock.nowMillis() - clearedAtMillis < settings.balanceCooldown().toMillis();
  }

  /** How many more maintainer moves off the target may start, with {@code inFlight} running and {@code left} still to go. */
  public int movesAllowed(int left, int inFlight) {
    return Math.max(0, DrainConcurrency.limit((long) left + inFlight) - inFlight);
  }

  public Map<NodeId, NodeReport> reports() {
    Map<NodeId, NodeReport> out = new TreeMap<>();
    nodes.forEach((n, s) -> out.put(n, s.report));
    return out;
  }

  /** The liveness to show for {@code node}: the drained node is DRAINING from the start, whatever it reported yet. */
  public NodeLiveness livenessOf(NodeId node) {
    NodeState state = nodes.get(node);
    NodeLivenessState reported = state == null ? NodeLivenessState.ALIVE : state.report.liveness();
    return node.equals(target.node()) ? reported.advanceTo(NodeLiveness.NODE_LIVENESS_DRAINING).liveness() : reported.liveness();
  }

  // ---- internals ----

  private List<Outbound> clear() {
    target = NodeDrainTarget.cleared(target.epoch());
    clearedAtMillis = clock.nowMillis();
    wanted = NodeLiveness.NODE_LIVENESS_DRAINING;
    return broadcast();
  }

  private List<Outbound> broadcast() {
    List<Outbound> out = new ArrayList<>();
    nodes.forEach((node, state) -> out.add(sendTarget(node, state)));
    return out;
  }

  private Outbound sendTarget(NodeId node, NodeState state) {
    state.targetSentAt = clock.nowMillis();
    return new Outbound(node, Role.MAINTAINER_MANAGER, SetDispatcherDrainTargetRequest.newBuilder()
        .setElectionVersion(electionVersion).setTarget(target.toProto()).build());
  }

  /** The liveness command for the drained node, when it has not reached the wanted liveness and one is due. */
  private List<Outbound> livenessCommand(long now) {
    NodeState state = nodes.get(target.node());
    // Without the node's epoch the command would be ignored: wait for its first heartbeat.
    if (state == null || state.report.nodeEpoch() == 0 || state.report.liveness().atLeast(wanted)
        || now - state.livenessSentAt < settings.livenessResend().toMillis()) {
      return List.of();
    }
    state.livenessSentAt = now;
    return List.of(new Outbound(target.node(), Role.MAINTAINER_MANAGER, SetNodeLivenessRequest.newBuilder()
        .setElectionVersion(electionVersion).setTarget(wanted).setNodeEpoch(state.report.nodeEpoch()).build()));
  }

  private static NodeLiveness known(NodeLiveness liveness) {
    // A value from a newer node this build does not know is at least "not alive": never schedulable.
    return liveness == NodeLiveness.UNRECOGNIZED ? NodeLiveness.NODE_LIVENESS_STOPPING : liveness;
  }
}
