package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerStatus;
import java.util.Optional;

/** Starts a maintainer on {@code destination} at the freshly persisted epoch; done when it reports Working and bootstrapped. */
public final class AddMaintainer extends SingleNodeOperator {

  private final AddMaintainerRequest request;
  private String error = "";

  public AddMaintainer(NodeId destination, AddMaintainerRequest request) {
    super(destination, request, Outcome.DESTINATION_LOST);
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

  @Override
  public void onStatus(NodeId from, MaintainerStatus status) {
    if (!running() || !MaintainerOperator.from(node, epoch(), from, status)) {
      return;
    }
    if (status.getState() == ComponentState.COMPONENT_STATE_WORKING && status.getBootstrapDone()) {
      finish(Outcome.SUCCEEDED);
    } else if (status.getErrorsCount() > 0 && status.getState() != ComponentState.COMPONENT_STATE_WORKING) {
      error = status.getErrors(0).getMessage();
      finish(Outcome.REJECTED);
    }
  }

  @Override
  public String error() {
    return error;
  }

  @Override
  public Optional<NodeId> destination() {
    return Optional.of(node);
  }

  @Override
  public String toString() {
    return "AddMaintainer{cf=" + changefeed() + ", dest=" + node + ", epoch=" + Long.toUnsignedString(epoch()) + '}';
  }
}
