package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import java.util.List;
import java.util.Optional;

/**
 * Pauses or removes a changefeed: the maintainer on {@code node} is removed with the epoch it runs at
 * (cascading: it closes the changefeed's dispatcher managers everywhere). When the maintainer's node is
 * gone, the epoch is bumped first and this operator targets any live node with the new epoch: there a
 * remove-only maintainer closes every dispatcher manager, fenced above every older owner.
 */
public final class StopChangefeed implements MaintainerOperator {

  private final NodeId node;
  private final RemoveMaintainerRequest request;
  private Outcome outcome;

  public StopChangefeed(NodeId node, long electionVersion, ChangefeedId changefeed, long epoch, boolean removed) {
    this.node = node;
    this.request = RemoveMaintainerRequest.newBuilder()
        .setElectionVersion(electionVersion)
        .setChangefeedId(changefeed.value())
        .setCascade(true)
        .setRemoved(removed)
        .setEpoch(epoch)
        .build();
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
  public List<Outbound> messages() {
    return outcome != null ? List.of() : List.of(new Outbound(node, Role.MAINTAINER_MANAGER, request));
  }

  @Override
  public void onStatus(NodeId from, MaintainerStatus status) {
    if (outcome == null && MaintainerOperator.from(node, epoch(), from, status)
        && (status.getState() == ComponentState.COMPONENT_STATE_STOPPED || status.getState() == ComponentState.COMPONENT_STATE_REMOVED)) {
      outcome = Outcome.SUCCEEDED;
    }
  }

  @Override
  public void onNodeRemoved(NodeId removedNode) {
    if (outcome == null && removedNode.equals(node)) {
      outcome = Outcome.NODE_LOST;
    }
  }

  @Override
  public Optional<Outcome> outcome() {
    return Optional.ofNullable(outcome);
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
