package io.feedline.maintainer.manager;

import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.maintainer.Maintainer;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerStatus;

/**
 * The manager's state for one changefeed: the highest ownership decision accepted for it, the local
 * maintainer (running or stopping), what follows its stop, the confirmation being reported after a stop,
 * and what the last heartbeat said about it. Mutable; owned by {@link MaintainerManager}.
 */
final class ChangefeedSlot {

  /** What to do when the in-flight stop of the local maintainer completes. */
  sealed interface AfterStop {
    /** A newer add arrived while the old maintainer was running: replace it now that it is gone. */
    record StartMaintainer(AddCheck.Valid add) implements AfterStop {}

    /** A cascading removal arrived while a non-cascading stop was in flight: close the dispatcher managers too. */
    record CloseDispatchers(long epoch, boolean removed) implements AfterStop {}

    /** Confirm the stop to the coordinator. */
    record Report(long epoch, boolean removed) implements AfterStop {}
  }

  /**
   * A finished stop or removal, reported in heartbeats until {@code expiresAtMillis} so the coordinator
   * sees it even if a heartbeat is lost.
   */
  record DoneReport(long epoch, boolean removed, boolean dispatchersClosed, long checkpointTs, long expiresAtMillis) {

    /** Whether this finished stop already did everything a repeated request at its epoch asks for. */
    boolean covers(boolean cascade) {
      return dispatchersClosed || !cascade;
    }

    DoneReport reconfirmed(boolean removed, long expiresAtMillis) {
      return new DoneReport(epoch, removed, dispatchersClosed, checkpointTs, expiresAtMillis);
    }

    MaintainerStatus status(ChangefeedId changefeed) {
      return MaintainerStatus.newBuilder()
          .setChangefeedId(changefeed.value())
          .setState(removed ? ComponentState.COMPONENT_STATE_REMOVED : ComponentState.COMPONENT_STATE_STOPPED)
          .setCheckpointTs(checkpointTs)
          .setEpoch(epoch)
          .build();
    }
  }

  final ChangefeedId changefeed;
  /** The ownership decisions seen: adds take over at a newer epoch, removals tombstone. */
  Fence fence = Fence.INITIAL;
  /** The local maintainer, running or stopping; null when only a confirmation is left. */
  Maintainer maintainer;
  boolean stopping;
  /** The in-flight stop closes the dispatcher managers. */
  boolean stopCascades;
  AfterStop afterStop;
  DoneReport done;
  /** The last non-zero checkpoint a stopped maintainer of this changefeed reported, for the confirmation. */
  long lastCheckpointTs;
  MaintainerStatus lastSent;
  long lastSentAtMillis;

  ChangefeedSlot(ChangefeedId changefeed) {
    this.changefeed = changefeed;
  }

  /** What is reported now: the local maintainer's status, else the confirmation. */
  MaintainerStatus status() {
    return maintainer != null ? maintainer.status() : done.status(changefeed);
  }

  boolean expired(long nowMillis) {
    return maintainer == null && done.expiresAtMillis() <= nowMillis;
  }
}
