package io.feedline.coordinator.control;

import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.drain.NodeLivenessState;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metrics.Meters;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.CoordinatorException.Reason;
import io.feedline.coordinator.DrainReply;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.coordinator.operator.MaintainerOperator;
import io.feedline.coordinator.scheduler.BasicScheduler;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Draining a node (DESIGN §5): maintainers leave it first, a bounded number of moves at once to nodes that
 * acknowledged the target, then its dispatchers (their maintainers move them), then it is told it is STOPPING.
 * The drain's own protocol (targets, liveness, acknowledgements) is {@link DrainController}'s.
 */
final class DrainControlManager {

  private static final Logger LOG = LoggerFactory.getLogger(DrainControlManager.class);

  private final CoordinatorState state;
  private final PlacementControlManager placement;
  /** Changefeeds whose maintainer this coordinator is moving off the drain target. */
  private final Set<ChangefeedId> drainMoves = new HashSet<>();

  DrainControlManager(CoordinatorState state, PlacementControlManager placement) {
    this.state = state;
    this.placement = placement;
  }

  /**
   * Starts draining {@code node} if it is not being drained yet, and answers how much is left; callable
   * repeatedly. Refused for an unknown node, the last live node, or while another node is drained.
   */
  void drain(long request, NodeId node, CoordinatorEffects.Builder out) {
    DrainController.Check check = state.drain.check(node, state.self);
    if (check instanceof DrainController.Check.Refused refused) {
      Reason reason = refused.reason() == DrainController.Check.Reason.UNKNOWN_NODE ? Reason.NOT_FOUND : Reason.FAILED_PRECONDITION;
      out.fail(request, new CoordinatorException(reason, refused.message()));
    } else if (check instanceof DrainController.Check.ResignFirst) {
      LOG.info("event=drain_needs_resign node={} election_version={}", node, state.electionVersion);
      out.reply(request, new DrainReply(-1, true));
    } else if (check instanceof DrainController.Check.InProgress) {
      out.reply(request, new DrainReply(progress().remaining(), false));
    } else {
      out.requestTimestamp(state.await(new Pending.DrainTimestamp(request, node)));
    }
  }

  void onTimestamp(Pending.DrainTimestamp p, long epoch, Throwable error, CoordinatorEffects.Builder out) {
    if (error != null) {
      out.fail(p.request(), new CoordinatorException(Reason.UNAVAILABLE, "no timestamp for the drain target: " + error.getMessage() + "; retry"));
      return;
    }
    // Another request may have started it while the oracle answered.
    DrainController.Check again = state.drain.check(p.node(), state.self);
    if (again instanceof DrainController.Check.Start) {
      out.sendAll(state.drain.start(p.node(), epoch));
      Meters.counter(state.metrics, "feedline.coordinator.drains.started", "Node drains the coordinator started").increment();
      out.reply(p.request(), new DrainReply(progress().remaining(), false));
    } else {
      drain(p.request(), p.node(), out);
    }
  }

  /**
   * Maintainers leave the drain target first: up to {@code DrainConcurrency.limit} moves at once, to the
   * least-loaded destinations (which have all acknowledged the target, so they will not place dispatchers
   * back on it).
   */
  void moveOffTarget(CoordinatorEffects.Builder out) {
    NodeId target = state.drain.target().node();
    drainMoves.removeIf(id -> !state.operators.busy(id));
    if (target == null || !state.bootstrapped) {
      return;
    }
    List<ChangefeedId> onTarget = state.changefeeds.values().stream()
        .filter(cf -> target.equals(cf.owner()) && !cf.writing() && !cf.stopping() && !state.operators.busy(cf.id()))
        .map(Changefeed::id).toList();
    int allowed = state.drain.movesAllowed(onTarget.size(), drainMoves.size());
    List<NodeId> destinations = state.schedulableNodes();
    if (onTarget.isEmpty() || allowed == 0 || destinations.isEmpty()) {
      return;
    }
    BasicScheduler.place(onTarget, placement.load(destinations), allowed).forEach((id, dest) -> {
      if (placement.move(id, dest, out)) {
        drainMoves.add(id);
      }
    });
  }

  /** The drain's own protocol, paced by the tick, told what is left. */
  void tick(CoordinatorEffects.Builder out) {
    out.sendAll(state.drain.tick(progress()));
  }

  /** What is left of the current drain (zeros when none runs). */
  DrainController.Progress progress() {
    NodeDrainTarget target = state.drain.target();
    if (!target.active()) {
      return DrainController.Progress.NONE;
    }
    NodeId node = target.node();
    DrainTarget current = target.toProto();
    long now = state.now();
    long maintainers = 0;
    long dispatchers = 0;
    long moves = 0;
    long notAcknowledging = 0;
    for (Changefeed cf : state.changefeeds.values()) {
      Optional<MaintainerOperator> op = state.operators.get(cf.id());
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
    moves += drainMoves.stream().filter(state.operators::busy).count();
    return new DrainController.Progress(maintainers, dispatchers, moves, notAcknowledging);
  }

  /** The drain under way, and what is left of it. */
  Optional<Map.Entry<NodeId, Long>> status() {
    NodeDrainTarget target = state.drain.target();
    return target.active() ? Optional.of(Map.entry(target.node(), progress().remaining())) : Optional.empty();
  }

  /** Every live node as it last reported itself, with the liveness the coordinator shows for it. */
  Map<NodeId, DrainController.NodeReport> nodeReports() {
    Map<NodeId, DrainController.NodeReport> out = new TreeMap<>();
    state.drain.reports().forEach((node, r) -> out.put(node, new DrainController.NodeReport(
        new NodeLivenessState(state.drain.livenessOf(node)), r.nodeEpoch(), r.acknowledged(), r.dispatchers(),
        r.metastoreUnreachableSinceMs())));
    return out;
  }
}
