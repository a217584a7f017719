package io.feedline.node.simulation;

import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The invariants of DESIGN §9 that live in the nodes' memory, checked on a sample of every live node's
 * role state (read on each role's context). Each violation names its invariant.
 *
 * <ul>
 *   <li>{@value #ONE_MAINTAINER_PER_EPOCH}: two maintainers of one changefeed never share an epoch — every
 *       new ownership is a new persisted epoch, so a shared one means two owners the fences cannot tell apart.
 *   <li>{@value #ONE_OWNER_PER_FENCE_EPOCH}: the dispatcher-side fences of a changefeed that hold the same
 *       epoch name the same owner on every node.
 *   <li>{@value #RECEIVER_EPOCHS_MONOTONIC}: on one node, the epoch a changefeed is fenced at and the epoch
 *       of its maintainer there never go down — a receiver never acts on an epoch below the highest it saw.
 *   <li>{@value #ONE_WRITER_PER_SPAN}: no span has two Working dispatchers that may write. Nodes are read one
 *       after the other, so a move that completes between two reads can show its origin and destination
 *       both Working without ever overlapping; a pair counts only when two consecutive samples both see it.
 * </ul>
 */
final class ClusterInvariants {

  static final String ONE_MAINTAINER_PER_EPOCH = "one-maintainer-per-epoch";
  static final String ONE_OWNER_PER_FENCE_EPOCH = "one-owner-per-fence-epoch";
  static final String RECEIVER_EPOCHS_MONOTONIC = "receiver-epochs-monotonic";
  static final String ONE_WRITER_PER_SPAN = "one-writer-per-span";

  private record Seen(NodeId node, ChangefeedId changefeed, String what) {}

  private final Map<Seen, Long> highest = new HashMap<>();
  /** Spans with two or more writers in the previous sample, with who they were. */
  private Map<String, Set<String>> doubleWriters = Map.of();

  /** Samples every live node once and returns the violations found in this sample. */
  List<String> check(List<NodeRuntime> live) {
    List<String> violations = new ArrayList<>();
    Map<ChangefeedId, Map<Long, List<NodeId>>> maintainersByEpoch = new HashMap<>();
    Map<ChangefeedId, Map<Long, NodeId>> fenceOwners = new HashMap<>();
    for (NodeRuntime node : live) {
      Map<ChangefeedId, Long> maintainers = ClusterProbe.onContext(node.maintainerRole().context(),
          () -> Future.succeededFuture(node.maintainerRole().runningMaintainers()));
      Map<ChangefeedId, Fence> fences = ClusterProbe.onContext(node.dispatcherRole().context(),
          () -> Future.succeededFuture(node.dispatcherRole().orchestrator().fences()));
      maintainers.forEach((cf, epoch) -> {
        maintainersByEpoch.computeIfAbsent(cf, k -> new HashMap<>()).computeIfAbsent(epoch, k -> new ArrayList<>()).add(node.nodeId());
        monotonic(violations, new Seen(node.nodeId(), cf, "maintainer"), epoch);
      });
      fences.forEach((cf, fence) -> {
        monotonic(violations, new Seen(node.nodeId(), cf, "fence"), fence.epoch());
        if (fence.hasOwner()) {
          NodeId other = fenceOwners.computeIfAbsent(cf, k -> new HashMap<>()).putIfAbsent(fence.epoch(), fence.owner());
          if (other != null && !other.equals(fence.owner())) {
            violations.add(ONE_OWNER_PER_FENCE_EPOCH + ": " + cf + " at epoch " + Epochs.format(fence.epoch())
                + " is owned by " + other + " on one node and by " + fence.owner() + " on " + node.nodeId());
          }
        }
      });
    }
    Map<String, Set<String>> writers = new HashMap<>();
    for (ClusterProbe.WorkingDispatcher w : ClusterProbe.workingDispatchers(live)) {
      var span = w.dispatcher().getSpan();
      String key = w.changefeed() + " table " + span.getTableId() + " [" + span.getStartKey().toStringUtf8() + ", "
          + span.getEndKey().toStringUtf8() + ")";
      writers.computeIfAbsent(key, k -> new TreeSet<>()).add(w.node() + "/" + DispatcherKey.of(w.dispatcher().getId()));
    }
    writers.values().removeIf(set -> set.size() < 2);
    writers.forEach((span, who) -> {
      if (who.equals(doubleWriters.get(span))) {
        violations.add(ONE_WRITER_PER_SPAN + ": " + span + " is written by " + who);
      }
    });
    doubleWriters = writers;
    maintainersByEpoch.forEach((cf, byEpoch) -> byEpoch.forEach((epoch, nodes) -> {
      if (nodes.size() > 1) {
        violations.add(ONE_MAINTAINER_PER_EPOCH + ": " + cf + " has maintainers at epoch " + Epochs.format(epoch) + " on " + nodes);
      }
    }));
    return violations;
  }

  private void monotonic(List<String> violations, Seen seen, long epoch) {
    Long previous = highest.get(seen);
    if (previous != null && Epochs.compare(epoch, previous) < 0) {
      violations.add(RECEIVER_EPOCHS_MONOTONIC + ": the " + seen.what() + " of " + seen.changefeed() + " on " + seen.node()
          + " went from epoch " + Epochs.format(previous) + " to " + Epochs.format(epoch));
    }
    if (previous == null || Epochs.compare(epoch, previous) > 0) {
      highest.put(seen, epoch);
    }
  }
}
