package io.feedline.coordinator.control;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ChangefeedInfo;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the coordinator does with the outcome of a request it sent out (a timestamp or a registry call), kept as
 * data under the request's id instead of a callback: the outcome arrives later as an input, and whatever the
 * coordinator learned meanwhile is read then, not captured when the request left.
 */
sealed interface Pending {

  /** Why a batch of epochs is bumped: the operator each bumped changefeed gets afterwards. */
  sealed interface BumpPurpose {
    Set<ChangefeedId> ids();

    /** New maintainers, placed on these nodes. */
    record Place(Map<ChangefeedId, NodeId> placement) implements BumpPurpose {
      @Override
      public Set<ChangefeedId> ids() {
        return placement.keySet();
      }
    }

    /** A running maintainer moves from {@code origin} (stopped with its own epoch) to {@code dest}. */
    record Move(ChangefeedId id, NodeId origin, long originEpoch, NodeId dest) implements BumpPurpose {
      @Override
      public Set<ChangefeedId> ids() {
        return Set.of(id);
      }
    }

    /** Nobody runs a changefeed being stopped: a remove-only maintainer on {@code target} closes its dispatchers. */
    record StopOwnerless(ChangefeedId id, NodeId target) implements BumpPurpose {
      @Override
      public Set<ChangefeedId> ids() {
        return Set.of(id);
      }
    }
  }

  /** A timestamp for the epochs of {@code purpose}; {@code bumping} are its changefeeds as memory held them then. */
  record BumpTimestamp(BumpPurpose purpose, List<Changefeed> bumping) implements Pending {}

  /** The epochs of {@code purpose} persisted (or not). */
  record Bump(BumpPurpose purpose, List<Changefeed> bumping) implements Pending {}

  /** A timestamp to start a created changefeed at ("now"). */
  record CreateTimestamp(long request, ChangefeedInfo requested) implements Pending {}

  record Create(long request, ChangefeedId id) implements Pending {}

  /** A timestamp to stamp a drain target with. */
  record DrainTimestamp(long request, NodeId node) implements Pending {}

  /** A timestamp for a queued write's new epoch. */
  record WriteTimestamp(Changefeed cf, ChangefeedWrites.Queued write, int attempt) implements Pending {}

  record Write(Changefeed cf, ChangefeedWrites.Queued write, int attempt) implements Pending {}

  /** The records read again after a write lost its compare-and-set; the write is tried again on them. */
  record Reread(Changefeed cf, ChangefeedWrites.Queued write, int attempt) implements Pending {}

  /** The records read again after a write failed otherwise, so the next write compares the right revisions. */
  record Refresh(Changefeed cf) implements Pending {}

  /** A batch of checkpoints; {@code finished} reached their target with it. */
  record CheckpointBatch(List<Changefeed> writing, List<Changefeed> finished) implements Pending {}
}
