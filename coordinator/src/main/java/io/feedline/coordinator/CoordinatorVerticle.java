package io.feedline.coordinator;

import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;

/**
 * The coordinator role of a node: elects the cluster's coordinator and runs changefeed lifecycle (issue 3). Until that lands it receives its control messages and
 * reports them as unhandled.
 */
public final class CoordinatorVerticle extends RoleVerticle {

  public CoordinatorVerticle(NodeContext node) {
    super(node, Role.COORDINATOR);
  }

  @Override
  protected void handle(Inbound message) {
    unhandled(message);
  }
}
