package io.feedline.coordinator.control;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.DrainProgress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The coordinator's view of one changefeed: the persisted records (always what the last write or bump
 * returned — never behind the store), where its maintainer runs, retry bookkeeping, and the writes waiting
 * for the one in flight. Plain data of the coordinator's state machine.
 */
final class Changefeed {

  ChangefeedRecord record;
  /** The node of the last adopted maintainer, and the epoch it runs at. */
  private NodeId maintainer;
  private long maintainerEpoch;
  /** The maintainer's last reported checkpoint, not yet persisted when above the record's. */
  long reportedCheckpoint;
  /** A registry write for this changefeed is in flight: the next one waits for the revisions it leaves. */
  private boolean writing;
  /** Writes waiting for the one in flight, in arrival order (admin calls are queued, never refused for it). */
  final Deque<ChangefeedWrites.Queued> queued = new ArrayDeque<>();
  long retryAt;
  long backoffMillis;
  long warningSince;
  /** What the adopted maintainer last reported about the drain target; null until it reports. */
  DrainProgress drainProgress;
  /** What its owner last said holds its checkpoint back, and where its source has got to; shown, never persisted. */
  List<CheckpointBlocker> blockers = List.of();
  long resolvedTs;

  Changefeed(ChangefeedRecord record) {
    this.record = record;
    this.reportedCheckpoint = record.status().getCheckpointTs();
  }

  /**
   * The node whose maintainer owns the changefeed: adopted, and running at the persisted epoch. A bump
   * for a new owner (or a warning) makes the previous one stale at once, even before it is replaced.
   */
  NodeId owner() {
    return maintainer != null && maintainerEpoch == epoch() ? maintainer : null;
  }

  /**
   * The changefeed's ownership as the fence its maintainers' statuses are admitted by (control rule): the owner at
   * the persisted epoch, or no owner at all while the persisted epoch has none adopted yet.
   */
  Fence fence() {
    return Fence.ownedBy(owner(), epoch());
  }

  /**
   * Takes what the registry answered (a write, a bump, a read), key by key: each of the info and the status
   * records is taken only if it is at least as new (by revision) as the one memory holds. An answer may carry
   * the caller's view of the key it did not write (a checkpoint write carries the info as read before it), or
   * arrive after a newer one (a read issued before the next write): memory must never go back, or a bumped
   * epoch would be undone and the new owner's statuses rejected as stale.
   */
  void apply(ChangefeedRecord answer) {
    boolean info = answer.infoRevision() >= record.infoRevision();
    boolean status = answer.statusRevision() >= record.statusRevision();
    record = new ChangefeedRecord(info ? answer.info() : record.info(), info ? answer.infoRevision() : record.infoRevision(),
        status ? answer.status() : record.status(), status ? answer.statusRevision() : record.statusRevision());
  }

  boolean writing() {
    return writing;
  }

  void beginWrite() {
    writing = true;
  }

  /** The write in flight ended, its outcome already applied here; the caller starts what is queued behind it. */
  void endWrite() {
    writing = false;
  }

  void adopt(NodeId node, long epoch) {
    maintainer = node;
    maintainerEpoch = epoch;
    forgetReports();
  }

  void disown() {
    maintainer = null;
    forgetReports();
  }

  /** What an earlier maintainer reported says nothing of the next one. */
  private void forgetReports() {
    drainProgress = null;
    blockers = List.of();
    resolvedTs = 0;
  }

  ChangefeedId id() {
    return record.id();
  }

  long epoch() {
    return record.epoch();
  }

  ChangefeedState state() {
    return record.info().getState();
  }

  ChangefeedProgress progress() {
    return record.status().getProgress();
  }

  /** Should have a maintainer now: running (or retrying after a warning) and not being stopped. */
  boolean wantsMaintainer(long now) {
    if (progress() != ChangefeedProgress.CHANGEFEED_PROGRESS_NONE) {
      return false;
    }
    return state() == ChangefeedState.CHANGEFEED_STATE_NORMAL
        || (state() == ChangefeedState.CHANGEFEED_STATE_WARNING && now >= retryAt);
  }

  boolean stopping() {
    return progress() != ChangefeedProgress.CHANGEFEED_PROGRESS_NONE;
  }
}
