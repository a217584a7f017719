package io.feedline.common.messaging;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.proto.FenceToken;

/** A well-formed control message as a role's handler receives it, with the fencing token it travelled with. */
public record Inbound(NodeId from, String type, Message payload, FenceToken fence) {

  /** {@code payload} from {@code from}, its token read from it (as a sender stamps it). */
  public static Inbound of(NodeId from, Message payload) {
    return new Inbound(from, ControlPayloads.typeOf(payload), payload, FenceTokens.of(payload));
  }

  /** The payload as {@code type}; handlers switch on {@link #payload()} and cast through this. */
  public <T extends Message> T as(Class<T> type) {
    return type.cast(payload);
  }
}
