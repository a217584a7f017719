package io.feedline.simulation;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.dispatcher.check.ChangeLine;
import io.feedline.dispatcher.check.DatagenReplay;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.MaintainerCloseRequest;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The protocol's invariants (DESIGN §9), each checked on exact histories, never on samples: after every step of the
 * simulation on every node's state, and on every commit of the metastore. Each violation names its invariant:
 * <ul>
 *   <li>{@code FENCE_MONOTONIC}: no receiver acts on a message below the highest epoch it has seen: a dispatcher
 *       side's fence of a changefeed (its owner's epoch, the epoch that closed it) and a maintainer manager's
 *       obeyed coordinator never go back;</li>
 *   <li>{@code CLOSED_BY_NEWER}: a dispatcher side closes a changefeed only on a close of its owner's epoch or a newer
 *       one: a close from a lower epoch is acknowledged, never acted on;</li>
 *   <li>{@code ONE_MAINTAINER_PER_EPOCH}: one changefeed epoch is one ownership: no two nodes ever run a maintainer of
 *       a changefeed at the same epoch (an older owner cut off from the cluster may still run at its older epoch until
 *       it learns: every receiver fences it);</li>
 *   <li>{@code EPOCH_INCREASES}: a changefeed's persisted epoch never goes down (every write that changes it raises it;
 *       the info record is also rewritten at the same epoch, for a state change);</li>
 *   <li>{@code CHECKPOINT_MONOTONIC}: a changefeed's persisted checkpoint never goes back;</li>
 *   <li>{@code CHECKPOINT_DURABLE}: a persisted checkpoint never passes an event its downstream does not hold;</li>
 *   <li>{@code ONE_WRITER} is checked by the {@link Downstream} on every accepted write.</li>
 * </ul>
 */
final class Invariants {

  private record Key(NodeId node, ChangefeedId changefeed) {}

  private final MetaKeys keys;
  private final Function<ChangefeedId, Downstream> downstreams;
  private final Consumer<String> violations;
  private final Map<Key, Fence> fences = new HashMap<>();
  /** The highest epoch of a close request delivered to each node for each changefeed. */
  private final Map<Key, Long> closes = new HashMap<>();
  private final Map<NodeId, Long> obeyed = new HashMap<>();
  /** Who ran each changefeed's maintainer at each epoch. */
  private final Map<ChangefeedId, Map<Long, NodeId>> maintainers = new HashMap<>();
  private final Map<ChangefeedId, Long> epochs = new HashMap<>();
  private final Map<ChangefeedId, Long> checkpoints = new HashMap<>();
  /** Up to where each changefeed's downstream was verified to hold every event. */
  private final Map<ChangefeedId, Long> verified = new HashMap<>();

  /** New maintainer ownerships of a changefeed after its first: the moves, failovers and resumes the run saw. */
  long maintainerHandoffs;

  Invariants(MetaKeys keys, Function<ChangefeedId, Downstream> downstreams, Consumer<String> violations) {
    this.keys = keys;
    this.downstreams = downstreams;
    this.violations = violations;
  }

  /** Every message as it is delivered: what closes a node was asked for. */
  void onDelivered(NodeId to, Inbound in) {
    if (in.payload() instanceof MaintainerCloseRequest && ChangefeedId.isValid(in.fence().getChangefeedId())) {
      closes.merge(new Key(to, ChangefeedId.of(in.fence().getChangefeedId())), in.fence().getEpoch(),
          (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
    }
  }

  /** After every step: the receivers' fences and who runs which maintainer. */
  void afterStep(Collection<SimNode> nodes, Collection<ChangefeedId> changefeeds) {
    for (SimNode node : nodes) {
      if (!node.alive()) {
        continue;
      }
      for (ChangefeedId cf : changefeeds) {
        Fence fence = node.fence(cf);
        Key key = new Key(node.id, cf);
        Fence before = fences.put(key, fence);
        boolean newlyClosed = fence.tombstoned() && (before == null || !before.tombstoned() || before.closedEpoch() != fence.closedEpoch());
        long asked = closes.getOrDefault(key, 0L);
        if (newlyClosed && Long.compareUnsigned(asked, fence.closedEpoch()) < 0) {
          violations.accept("CLOSED_BY_NEWER: " + node.id + "'s dispatcher side of " + cf + " closed at epoch " + fence.closedEpoch()
              + " though the newest close it was sent is of epoch " + asked);
        }
        if (before != null && (Long.compareUnsigned(fence.epoch(), before.epoch()) < 0
            || Long.compareUnsigned(fence.closedEpoch(), before.closedEpoch()) < 0)) {
          violations.accept("FENCE_MONOTONIC: " + node.id + "'s dispatcher side of " + cf + " went from epoch " + before.epoch()
              + " (closed at " + before.closedEpoch() + ") back to " + fence.epoch() + " (closed at " + fence.closedEpoch() + ")");
        }
      }
      long version = node.obeyedElectionVersion();
      Long before = obeyed.put(node.id, version);
      if (before != null && version < before) {
        violations.accept("FENCE_MONOTONIC: " + node.id + "'s maintainer manager went from coordinator " + before + " back to " + version);
      }
      node.runningMaintainers().forEach((cf, epoch) -> {
        Map<Long, NodeId> owners = maintainers.computeIfAbsent(cf, x -> new HashMap<>());
        NodeId first = owners.putIfAbsent(epoch, node.id);
        if (first == null && owners.size() > 1) {
          maintainerHandoffs++;
        }
        if (first != null && !first.equals(node.id)) {
          violations.accept("ONE_MAINTAINER_PER_EPOCH: " + cf + " epoch " + epoch + " ran on " + first + " and then on " + node.id);
        }
      });
    }
  }

  /** On every metastore commit: the persisted epochs and checkpoints. */
  void onCommit(List<WatchEvent> events) {
    for (WatchEvent event : events) {
      if (event.type() != WatchEvent.Type.PUT) {
        continue;
      }
      String key = event.kv().key();
      try {
        if (key.startsWith(keys.changefeedInfos())) {
          ChangefeedInfo info = ChangefeedInfo.parseFrom(event.kv().value());
          ChangefeedId cf = ChangefeedId.of(info.getId());
          Long before = epochs.put(cf, info.getEpoch());
          if (before != null && Long.compareUnsigned(info.getEpoch(), before) < 0) {
            violations.accept("EPOCH_INCREASES: " + cf + "'s persisted epoch went from " + before + " down to " + info.getEpoch());
          }
        } else if (key.startsWith(keys.changefeedStatuses())) {
          ChangefeedId cf = ChangefeedId.of(key.substring(keys.changefeedStatuses().length()));
          long checkpoint = ChangefeedStatus.parseFrom(event.kv().value()).getCheckpointTs();
          Long before = checkpoints.put(cf, checkpoint);
          if (before != null && checkpoint < before) {
            violations.accept("CHECKPOINT_MONOTONIC: " + cf + "'s persisted checkpoint went from " + before + " back to " + checkpoint);
          }
          checkDurable(cf, checkpoint);
        }
      } catch (InvalidProtocolBufferException e) {
        violations.accept("CORRUPT_RECORD: " + key + ": " + e.getMessage());
      }
    }
  }

  private void checkDurable(ChangefeedId cf, long checkpoint) {
    Downstream downstream = downstreams.apply(cf);
    if (downstream == null) {
      return;
    }
    long from = Math.max(downstream.startTs, verified.getOrDefault(cf, downstream.startTs));
    if (checkpoint <= from) {
      return;
    }
    for (ChangeEvent event : DatagenReplay.changes(DatagenReplay.spec(downstream.sourceUri), from, checkpoint)) {
      if (!downstream.holds(event)) {
        violations.accept("CHECKPOINT_DURABLE: " + cf + "'s checkpoint " + checkpoint + " passed an event its downstream does not hold: "
            + ChangeLine.of(event).line());
        return;
      }
    }
    verified.put(cf, checkpoint);
  }
}
