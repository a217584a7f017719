package io.feedline.maintainer;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Role;

/** Sends a control message to a role on a node, fire-and-forget: {@code ControlBus::send} in production. */
@FunctionalInterface
public interface Outbox {
  void send(NodeId to, Role role, Message payload);
}
