package io.feedline.maintainer;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerStatus;
import io.vertx.core.Future;

/**
 * A maintainer that never works: started for a stop decision whose owner's maintainer is gone (its node
 * died), it closes the changefeed's dispatcher managers on every live node at its newer epoch, which
 * the dispatcher side accepts without a bootstrap because closing only removes writers. Its stop is
 * done when that closing is.
 */
public final class RemoveOnlyMaintainer implements Maintainer {

  private final ChangefeedId changefeed;
  private final long epoch;
  private DrainTarget drainTarget = DrainTarget.getDefaultInstance();
  private final TimedCloseRounds closer;

  public RemoveOnlyMaintainer(ChangefeedId changefeed, long epoch, boolean removed, MaintainerServices services) {
    this.changefeed = changefeed;
    this.epoch = epoch;
    this.closer = new TimedCloseRounds(changefeed, epoch, removed, services);
  }

  @Override
  public ChangefeedId changefeedId() {
    return changefeed;
  }

  @Override
  public long epoch() {
    return epoch;
  }

  /** Closing is all it does, so it begins at once. */
  @Override
  public void start() {
    closer.start();
  }

  /** Done when the closing begun by {@link #start()} is; the flags it was created with apply. */
  @Override
  public Future<Void> stop(boolean cascade, boolean removed) {
    return closer.start();
  }

  /**
   * Working until the closing is done: the coordinator takes any other state from this node at this
   * epoch as the confirmation that the changefeed is stopped, which it is not yet.
   */
  @Override
  public MaintainerStatus status() {
    return MaintainerStatus.newBuilder()
        .setChangefeedId(changefeed.value())
        .setState(ComponentState.COMPONENT_STATE_WORKING)
        .setEpoch(epoch)
        // Acknowledges the target at once: a remove-only maintainer places no dispatchers, so none is left on it.
        .setDrainProgress(DrainProgress.newBuilder().setTarget(drainTarget))
        .build();
  }

  @Override
  public void drainTarget(DrainTarget target) {
    drainTarget = target;
  }

  @Override
  public void onDispatcherMessage(NodeId from, Message message) {
    if (message instanceof MaintainerCloseResponse response) {
      closer.onResponse(from, response);
    }
  }
}
