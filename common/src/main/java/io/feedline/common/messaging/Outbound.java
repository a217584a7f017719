package io.feedline.common.messaging;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;

/** A control message a decision wants sent; decision code returns these, a role's verticle sends them. */
public record Outbound(NodeId to, Role role, Message payload) {

  public void sendWith(Outbox outbox) {
    outbox.send(to, role, payload);
  }
}
