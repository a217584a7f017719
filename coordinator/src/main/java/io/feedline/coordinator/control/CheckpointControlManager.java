package io.feedline.coordinator.control;

import io.feedline.common.id.ChangefeedId;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Persists the checkpoints maintainers report, batched: one batch in flight at a time, each changefeed's status
 * compared on its revision, at every tick and, when a status moves a checkpoint, at once if the last batch is
 * at least {@link #PERSIST_INTERVAL_MS} old. A changefeed whose checkpoint reaches its target finishes.
 */
final class CheckpointControlManager {

  /**
   * One batch of transactions per interval at most, whatever the number of changefeeds, and a persisted
   * checkpoint about one maintainer heartbeat behind the sink (the persisted one is what users read as lag).
   */
  static final long PERSIST_INTERVAL_MS = 100;

  private final CoordinatorState state;
  private final ChangefeedWrites writes;
  private boolean persisting;
  private long lastPersistAt = Long.MIN_VALUE / 2;

  CheckpointControlManager(CoordinatorState state, ChangefeedWrites writes) {
    this.state = state;
    this.writes = writes;
  }

  /** A status moved a checkpoint: persist now unless a batch is in flight or the last one is too recent (the tick then does). */
  void onCheckpointMoved(CoordinatorEffects.Builder out) {
    if (state.now() - lastPersistAt >= PERSIST_INTERVAL_MS) {
      persist(out);
    }
  }

  void persist(CoordinatorEffects.Builder out) {
    if (persisting) {
      return;
    }
    List<ChangefeedStore.StatusWrite> batch = new ArrayList<>();
    List<Changefeed> writing = new ArrayList<>();
    List<Changefeed> finished = new ArrayList<>();
    for (Changefeed cf : state.changefeeds.values()) {
      ChangefeedStatus persisted = cf.record.status();
      if (cf.writing() || cf.reportedCheckpoint <= persisted.getCheckpointTs()) {
        continue;
      }
      batch.add(new ChangefeedStore.StatusWrite(cf.record, persisted.toBuilder().setCheckpointTs(cf.reportedCheckpoint).build()));
      writing.add(cf);
      long target = cf.record.info().getTargetTs();
      if (target != 0 && cf.reportedCheckpoint >= target && cf.state() == ChangefeedState.CHANGEFEED_STATE_NORMAL) {
        finished.add(cf);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    lastPersistAt = state.now();
    persisting = true;
    writing.forEach(Changefeed::beginWrite);
    out.call(state.await(new Pending.CheckpointBatch(writing, finished)), new RegistryOp.WriteStatuses(batch));
  }

  void onWritten(Pending.CheckpointBatch p, RegistryResult result, CoordinatorEffects.Builder out) {
    persisting = false;
    Map<ChangefeedId, ChangefeedRecord> written = result instanceof RegistryResult.WrittenMany w ? w.records() : Map.of();
    for (Changefeed cf : p.writing()) {
      if (state.current(cf)) {
        ChangefeedRecord r = written.get(cf.id());
        if (r != null) {
          cf.apply(r);
        } else {
          writes.refresh(cf, out);
        }
      }
      writes.end(cf, out);
    }
    for (Changefeed cf : p.finished()) {
      // Finished only once the checkpoint that reached the target is persisted.
      if (state.current(cf) && written.containsKey(cf.id())) {
        writes.submit(cf, new Mutation.SetState(ChangefeedState.CHANGEFEED_STATE_FINISHED, ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING), 0, out);
      }
    }
    onCheckpointMoved(out);
  }
}
