package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import java.util.List;
import java.util.Optional;

/**
 * Moves a maintainer: first the origin is stopped with the origin's epoch, only then is the destination
 * started with the new (already persisted) epoch, so there are never two owners. If the destination
 * leaves meanwhile, the changefeed becomes maintainer-less only after the origin confirmed it stopped.
 */
public final class MoveMaintainer implements MaintainerOperator {

  private final NodeId origin;
  private final long originEpoch;
  private final AddMaintainer add;
  private final long electionVersion;
  private boolean originStopped;
  private boolean destinationLost;

  public MoveMaintainer(NodeId origin, long originEpoch, NodeId destination, AddMaintainerRequest addRequest) {
    this.origin = origin;
    this.originEpoch = originEpoch;
    this.add = new AddMaintainer(destination, addRequest);
    this.electionVersion = addRequest.getElectionVersion();
  }

  @Override
  public ChangefeedId changefeed() {
    return add.changefeed();
  }

  @Override
  public long epoch() {
    return add.epoch();
  }

  public NodeId origin() {
    return origin;
  }

  public boolean originStopped() {
    return originStopped;
  }

  @Override
  public List<Outbound> messages() {
    if (!originStopped) {
      // Not cascading: the new maintainer takes the dispatchers over with its higher epoch.
      return List.of(new Outbound(origin, Role.MAINTAINER_MANAGER, RemoveMaintainerRequest.newBuilder()
          .setElectionVersion(electionVersion)
          .setChangefeedId(changefeed().value())
          .setEpoch(originEpoch)
          .build()));
    }
    return destinationLost ? List.of() : add.messages();
  }

  @Override
  public void onStatus(NodeId from, MaintainerStatus status) {
    if (!originStopped) {
      if (MaintainerOperator.from(origin, originEpoch, from, status) && MaintainerOperator.stopped(status)) {
        originStopped = true;
      }
      return;
    }
    add.onStatus(from, status);
  }

  @Override
  public void onNodeRemoved(NodeId node) {
    if (node.equals(origin)) {
      // The origin's maintainer died with its node.
      originStopped = true;
    }
    if (node.equals(add.destination().orElseThrow())) {
      destinationLost = true;
    }
    add.onNodeRemoved(node);
  }

  @Override
  public Optional<Outcome> outcome() {
    if (!originStopped) {
      return Optional.empty();
    }
    return destinationLost ? Optional.of(Outcome.DESTINATION_LOST) : add.outcome();
  }

  @Override
  public String error() {
    return add.error();
  }

  @Override
  public Optional<NodeId> destination() {
    return add.destination();
  }

  /** The origin runs until it confirmed its stop; the destination is started only after that. */
  @Override
  public boolean runsOn(NodeId node) {
    return originStopped ? add.runsOn(node) : origin.equals(node);
  }

  @Override
  public String toString() {
    return "MoveMaintainer{cf=" + changefeed() + ", origin=" + origin + "@" + Long.toUnsignedString(originEpoch) + ", dest="
        + add.destination().orElseThrow() + "@" + Long.toUnsignedString(epoch()) + ", originStopped=" + originStopped + '}';
  }
}
