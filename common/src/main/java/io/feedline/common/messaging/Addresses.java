package io.feedline.common.messaging;

import io.feedline.common.id.NodeId;

/** Event-bus addresses: {@code feedline.<nodeId>.<role>}. */
public final class Addresses {

  private static final String PREFIX = "feedline.";

  private Addresses() {}

  public static String of(NodeId node, Role role) {
    return PREFIX + node.value() + '.' + role.segment();
  }
}
