package io.feedline.coordinator.control;

import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.EpochBump;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.RunningError;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One change to a changefeed's records, decided by the coordinator and applied to the latest records when its
 * turn comes ({@link ChangefeedWrites} serializes a changefeed's writes): what to write over them, and what
 * memory learns once it is written. Computed again from the re-read records after a lost compare-and-set, and
 * checked again then: the records may have changed while it waited (a pause queued behind a remove).
 */
sealed interface Mutation {

  Logger LOG = LoggerFactory.getLogger(Mutation.class);

  /** The write to make over {@code current} ({@code timestamp} from the oracle when {@link #needsTimestamp}); empty when there is nothing to change. */
  Optional<RegistryOp> write(ChangefeedRecord current, long timestamp);

  /** Why this change no longer applies to {@code current}: the request fails with it. */
  default Optional<RuntimeException> refusal(ChangefeedRecord current) {
    return Optional.empty();
  }

  /** Whether the write carries a new epoch, so a timestamp is asked for first. */
  default boolean needsTimestamp() {
    return false;
  }

  /** Memory after the write: {@code cf.record} already holds what was persisted. */
  default void written(Changefeed cf) {}

  private static boolean stopping(ChangefeedRecord r) {
    return r.status().getProgress() != ChangefeedProgress.CHANGEFEED_PROGRESS_NONE;
  }

  /**
   * Pause (stopped) or finish (finished), with the progress that makes the coordinator stop the maintainer, in
   * one transaction. Nothing to do once the changefeed is being stopped or removed (a pause queued behind a
   * remove must not turn the removal back into a stop), and a finish only while the changefeed runs normally.
   */
  record SetState(ChangefeedState state, ChangefeedProgress progress) implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      boolean finishingOther = state == ChangefeedState.CHANGEFEED_STATE_FINISHED && r.info().getState() != ChangefeedState.CHANGEFEED_STATE_NORMAL;
      return stopping(r) || finishingOther || r.info().getState() == state ? Optional.empty()
          : Optional.of(new RegistryOp.WriteInfoAndStatus(r, r.info().toBuilder().setState(state).build(),
              r.status().toBuilder().setProgress(progress).build()));
    }
  }

  /** Remove: REMOVING, whatever else runs (a stop under way finishes as a removal). */
  record Remove() implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      return r.status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING ? Optional.empty()
          : Optional.of(new RegistryOp.WriteStatus(r, r.status().toBuilder().setProgress(ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING).build()));
    }
  }

  /** A stop finished (its maintainer and dispatchers are gone): stopped. Only from STOPPING: a removal asked meanwhile goes on. */
  record StopDone() implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      return r.status().getProgress() != ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING ? Optional.empty()
          : Optional.of(new RegistryOp.WriteStatus(r, r.status().toBuilder().setProgress(ChangefeedProgress.CHANGEFEED_PROGRESS_NONE).build()));
    }

    @Override
    public void written(Changefeed cf) {
      LOG.info("event=changefeed_stopped changefeed={} state={}", cf.id(), cf.state());
    }
  }

  /**
   * The maintainer of {@code epoch} moves the checkpoint again: a warning changefeed is normal again. Nothing to do
   * once the epoch changed meanwhile (a new warning's bump): the progress was that of the maintainer that erred.
   */
  record ClearWarning(long epoch) implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      return r.info().getState() != ChangefeedState.CHANGEFEED_STATE_WARNING || r.epoch() != epoch ? Optional.empty()
          : Optional.of(new RegistryOp.WriteInfo(r, r.info().toBuilder().setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).clearError().build()));
    }

    @Override
    public void written(Changefeed cf) {
      cf.warningSince = 0;
      cf.backoffMillis = 0;
      LOG.info("event=changefeed_recovered changefeed={}", cf.id());
    }
  }

  /** An admin update of a stopped changefeed's sink, target or options. */
  record UpdateInfo(UnaryOperator<ChangefeedInfo> change) implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      return Optional.of(new RegistryOp.WriteInfo(r, change.apply(r.info())));
    }
  }

  /**
   * Resume: normal, error cleared, progress none, the checkpoint given (0: the persisted one when the write's
   * turn comes) and a new epoch — one transaction. Refused while the changefeed is being stopped or removed.
   */
  record Resume(long overwriteCheckpointTs) implements Mutation {
    @Override
    public Optional<RuntimeException> refusal(ChangefeedRecord r) {
      return !stopping(r) ? Optional.empty()
          : Optional.of(new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE, "changefeed " + r.id() + " is being "
              + (r.status().getProgress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING ? "removed" : "stopped") + "; retry"));
    }

    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      long checkpoint = overwriteCheckpointTs != 0 ? overwriteCheckpointTs : r.status().getCheckpointTs();
      return Optional.of(new RegistryOp.Bump(EpochBump.resume(r.id(), timestamp, checkpoint)));
    }

    @Override
    public boolean needsTimestamp() {
      return true;
    }

    @Override
    public void written(Changefeed cf) {
      cf.reportedCheckpoint = cf.record.status().getCheckpointTs();
      cf.warningSince = 0;
      cf.backoffMillis = 0;
      cf.retryAt = 0;
    }
  }

  /**
   * A maintainer error: warning (or failed) with the error, through a new epoch, so the erroring maintainer
   * is stale at once and removed with its own epoch, and the retry starts a new owner above it. Nothing to do
   * once the changefeed left normal and warning meanwhile (paused, for one).
   */
  record Fail(ChangefeedState next, RunningError error) implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      ChangefeedState now = r.info().getState();
      return now != ChangefeedState.CHANGEFEED_STATE_NORMAL && now != ChangefeedState.CHANGEFEED_STATE_WARNING ? Optional.empty()
          : Optional.of(new RegistryOp.Bump(EpochBump.of(r.id(), timestamp).withState(next, error)));
    }

    @Override
    public boolean needsTimestamp() {
      return true;
    }
  }

  /** The last step of a remove, once its maintainer (and every dispatcher) is gone: both records deleted. */
  record Delete() implements Mutation {
    @Override
    public Optional<RegistryOp> write(ChangefeedRecord r, long timestamp) {
      return r.status().getProgress() != ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING ? Optional.empty() : Optional.of(new RegistryOp.Delete(r));
    }
  }
}
