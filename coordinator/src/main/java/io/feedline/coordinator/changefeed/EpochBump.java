package io.feedline.coordinator.changefeed;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.RunningError;
import java.util.Optional;

/**
 * One request to persist a new maintainer epoch for a changefeed, optionally with a state, an error and
 * a status written in the same transaction. Pure: {@link #apply} computes the records to write from the
 * records read; {@link ChangefeedStore} performs it under compare-and-set.
 *
 * @param candidate the proposed epoch (from the timestamp oracle); the result is {@code max(candidate, persisted + 1)}
 * @param state a new state, or empty to keep it
 * @param error empty to keep the error; a present value replaces it ({@code RunningError} default instance = clear)
 * @param status a new status record, or empty to leave the status key untouched (and uncompared)
 */
public record EpochBump(ChangefeedId id, long candidate, Optional<ChangefeedState> state, Optional<RunningError> error,
    Optional<ChangefeedStatus> status) {

  public static EpochBump of(ChangefeedId id, long candidate) {
    return new EpochBump(id, candidate, Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * Resume: state normal, error cleared, progress none and the given checkpoint, with a new epoch — one
   * transaction, so a crash cannot leave a resumed changefeed with its old epoch or its old error.
   */
  public static EpochBump resume(ChangefeedId id, long candidate, long checkpointTs) {
    return new EpochBump(id, candidate, Optional.of(ChangefeedState.CHANGEFEED_STATE_NORMAL),
        Optional.of(RunningError.getDefaultInstance()),
        Optional.of(ChangefeedStatus.newBuilder().setCheckpointTs(checkpointTs).build()));
  }

  public EpochBump withState(ChangefeedState newState, RunningError newError) {
    return new EpochBump(id, candidate, Optional.of(newState), Optional.of(newError), status);
  }

  public boolean writesStatus() {
    return status.isPresent();
  }

  /** The info record to write over {@code current}: new epoch, state and error applied. */
  public ChangefeedInfo apply(ChangefeedInfo current) {
    ChangefeedInfo.Builder next = current.toBuilder().setEpoch(Epochs.next(current.getEpoch(), candidate));
    state.ifPresent(next::setState);
    error.ifPresent(e -> {
      if (e.equals(RunningError.getDefaultInstance())) {
        next.clearError();
      } else {
        next.setError(e);
      }
    });
    return next.build();
  }
}
