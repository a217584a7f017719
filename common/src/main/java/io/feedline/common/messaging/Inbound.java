package io.feedline.common.messaging;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;

/** A well-formed control message as a role's handler receives it. */
public record Inbound(NodeId from, String type, Message payload) {

  /** The payload as {@code type}; handlers switch on {@link #payload()} and cast through this. */
  public <T extends Message> T as(Class<T> type) {
    return type.cast(payload);
  }
}
