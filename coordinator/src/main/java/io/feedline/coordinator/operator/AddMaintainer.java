package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerStatus;
import java.util.List;
import java.util.Optional;

/** Starts a maintainer on {@code destination} at the freshly persisted epoch; done when it reports Working and bootstrapped. */
public final class AddMaintainer implements MaintainerOperator {

  private final NodeId destination;
  private final AddMaintainerRequest request;
  private Outcome outcome;
  private String error = "";

  public AddMaintainer(NodeId destination, AddMaintainerRequest request) {
    this.destination = destination;
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
  public List<Outbound> messages() {
    return outcome != null ? List.of() : List.of(new Outbound(destination, Role.MAINTAINER_MANAGER, request));
  }

  @Override
  public void onStatus(NodeId from, MaintainerStatus status) {
    if (outcome != null || !MaintainerOperator.from(destination, epoch(), from, status)) {
      return;
    }
    if (status.getState() == ComponentState.COMPONENT_STATE_WORKING && status.getBootstrapDone()) {
      outcome = Outcome.SUCCEEDED;
    } else if (status.getErrorsCount() > 0 && status.getState() != ComponentState.COMPONENT_STATE_WORKING) {
      outcome = Outcome.REJECTED;
      error = status.getErrors(0).getMessage();
    }
  }

  @Override
  public void onNodeRemoved(NodeId node) {
    if (outcome == null && node.equals(destination)) {
      outcome = Outcome.DESTINATION_LOST;
    }
  }

  @Override
  public Optional<Outcome> outcome() {
    return Optional.ofNullable(outcome);
  }

  @Override
  public String error() {
    return error;
  }

  @Override
  public Optional<NodeId> destination() {
    return Optional.of(destination);
  }

  @Override
  public String toString() {
    return "AddMaintainer{cf=" + changefeed() + ", dest=" + destination + ", epoch=" + Long.toUnsignedString(epoch()) + '}';
  }
}
