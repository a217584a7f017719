package io.feedline.coordinator.operator;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import java.util.List;
import java.util.Optional;

/**
 * An operator that sends one request to one node's maintainer manager until a status from that node at
 * its epoch settles it, or the node leaves.
 */
public abstract sealed class SingleNodeOperator implements MaintainerOperator permits AddMaintainer, StopChangefeed {

  protected final NodeId node;
  private final Message request;
  private final Outcome onNodeLost;
  private Outcome outcome;

  SingleNodeOperator(NodeId node, Message request, Outcome onNodeLost) {
    this.node = node;
    this.request = request;
    this.onNodeLost = onNodeLost;
  }

  @Override
  public final List<Outbound> messages() {
    return outcome != null ? List.of() : List.of(new Outbound(node, Role.MAINTAINER_MANAGER, request));
  }

  @Override
  public final void onNodeRemoved(NodeId removed) {
    if (outcome == null && removed.equals(node)) {
      outcome = onNodeLost;
    }
  }

  @Override
  public final Optional<Outcome> outcome() {
    return Optional.ofNullable(outcome);
  }

  @Override
  public final boolean runsOn(NodeId candidate) {
    return outcome == null && node.equals(candidate);
  }

  /** Settles the operator (first outcome wins). */
  protected final void finish(Outcome result) {
    if (outcome == null) {
      outcome = result;
    }
  }

  protected final boolean running() {
    return outcome == null;
  }
}
