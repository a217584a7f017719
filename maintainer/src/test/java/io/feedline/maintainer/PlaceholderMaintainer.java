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
 * Stands in for the real maintainer in the manager's protocol tests, which are about the manager, not
 * about bootstrapping spans: once created it reports itself working and bootstrapped at the add's
 * checkpoint and epoch; stopping with cascade really closes the changefeed's dispatcher managers.
 */
public final class PlaceholderMaintainer implements Maintainer {

  private final ChangefeedId changefeed;
  private final long epoch;
  private DrainTarget drainTarget = DrainTarget.getDefaultInstance();
  private final long checkpointTs;
  private final MaintainerServices services;
  private TimedCloseRounds closer;
  private Future<Void> stopped;

  public PlaceholderMaintainer(ChangefeedId changefeed, long epoch, long checkpointTs, MaintainerServices services) {
    this.changefeed = changefeed;
    this.epoch = epoch;
    this.checkpointTs = checkpointTs;
    this.services = services;
  }

  @Override
  public ChangefeedId changefeedId() {
    return changefeed;
  }

  @Override
  public long epoch() {
    return epoch;
  }

  @Override
  public void start() {
    // Nothing to bootstrap yet: the placeholder owns no spans.
  }

  @Override
  public Future<Void> stop(boolean cascade, boolean removed) {
    if (stopped == null) {
      if (cascade) {
        closer = new TimedCloseRounds(changefeed, epoch, removed, services);
        stopped = closer.start();
      } else {
        stopped = Future.succeededFuture();
      }
    }
    return stopped;
  }

  @Override
  public MaintainerStatus status() {
    return MaintainerStatus.newBuilder()
        .setChangefeedId(changefeed.value())
        .setState(ComponentState.COMPONENT_STATE_WORKING)
        .setCheckpointTs(checkpointTs)
        .setBootstrapDone(true)
        .setEpoch(epoch)
        // Acknowledges the target at once: the placeholder owns no dispatchers, so none is left on it.
        .setDrainProgress(DrainProgress.newBuilder().setTarget(drainTarget))
        .build();
  }

  @Override
  public void drainTarget(DrainTarget target) {
    drainTarget = target;
  }

  @Override
  public void onDispatcherMessage(NodeId from, Message message) {
    if (closer != null && message instanceof MaintainerCloseResponse response) {
      closer.onResponse(from, response);
    }
  }
}
