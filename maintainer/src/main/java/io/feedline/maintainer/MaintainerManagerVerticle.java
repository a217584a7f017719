package io.feedline.maintainer;

import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;

/**
 * The maintainer-manager role of a node: hosts this node's maintainers and answers coordinator commands (issue 3, 5). Until that lands it receives its control messages and
 * reports them as unhandled.
 */
public final class MaintainerManagerVerticle extends RoleVerticle {

  public MaintainerManagerVerticle(NodeContext node) {
    super(node, Role.MAINTAINER_MANAGER);
  }

  @Override
  protected void handle(Inbound message) {
    unhandled(message);
  }
}
