package io.feedline.dispatcher;

import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;

/**
 * The dispatcher-orchestrator role of a node: creates and closes this node's dispatcher managers (issue 4). Until that lands it receives its control messages and
 * reports them as unhandled.
 */
public final class DispatcherOrchestratorVerticle extends RoleVerticle {

  public DispatcherOrchestratorVerticle(NodeContext node) {
    super(node, Role.DISPATCHER_ORCHESTRATOR);
  }

  @Override
  protected void handle(Inbound message) {
    unhandled(message);
  }
}
