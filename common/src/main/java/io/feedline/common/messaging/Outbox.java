package io.feedline.common.messaging;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;

/** Where a role's decisions send control messages: the {@link ControlBus} in production, a recorder in tests. */
@FunctionalInterface
public interface Outbox {
  void send(NodeId to, Role role, Message payload);
}
