package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import java.util.Optional;

/**
 * Pauses or removes a changefeed: the maintainer on {@code node} is removed with the epoch it runs at
 * (cascading: it closes the changefeed's dispatcher managers everywhere). When the maintainer's node is
 * gone, the epoch is bumped first and this operator targets any live node with the new epoch: there a
 * remove-only maintainer closes every dispatcher manager, fenced above every older owner.
 */
public final class StopChangefeed extends SingleNodeOperator {

  private final RemoveMaintainerRequest request;

  public StopChangefeed(NodeId node, long electionVersion, ChangefeedId changefeed, long epoch, boolean removed) {
    this(node, RemoveMaintainerRequest.newBuilder()
        .setElectionVersion(electionVersion)
        .setChangefeedId(changefeed.value())
        .setCascade(true)
        .setRemoved(removed)
        .setEpoch(epoch)
        .build());
  }

  private StopChangefeed(NodeId node, RemoveMaintainerRequest request) {
    super(node, request, Outcome.NODE_LOST);
    this.request = request;
  }

  @Override
  public ChangefeedId changefeed() {
    return ChangefeedId.of(request.getChangefeedId());
  }

  @Override
  public long epoch() {
    return request.getEpoch();
  }

  public boolean removed() {
    return request.getRemoved();
  }

  @Override
  public void onStatus(NodeId from, MaintainerStatus status) {
    if (running() && MaintainerOperator.from(node, epoch(), from, status) && MaintainerOperator.stopped(status)) {
      finish(Outcome.SUCCEEDED);
    }
  }

  @Override
  public Optional<NodeId> destination() {
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "StopChangefeed{cf=" + changefeed() + ", node=" + node + ", epoch=" + Long.toUnsignedString(epoch()) + ", removed=" + removed() + '}';
  }
}
