package io.feedline.common.messaging;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ControlEnvelope;
import java.util.HashMap;
import java.util.Map;

/**
 * Puts control messages into and out of the {@link ControlEnvelope} oneof, by the payload's type, so
 * callers send plain messages and the envelope stays the one wire type the codec knows.
 */
public final class ControlPayloads {

  private static final OneofDescriptor PAYLOAD = ControlEnvelope.getDescriptor().getOneofs().get(0);
  private static final Map<String, FieldDescriptor> FIELD_BY_MESSAGE_TYPE = new HashMap<>();

  static {
    for (FieldDescriptor field : PAYLOAD.getFields()) {
      FIELD_BY_MESSAGE_TYPE.put(field.getMessageType().getFullName(), field);
    }
  }

  private ControlPayloads() {}

  /** Wraps {@code payload} with the sender's node id and its fencing token. */
  public static ControlEnvelope wrap(NodeId from, Message payload) {
    FieldDescriptor field = FIELD_BY_MESSAGE_TYPE.get(payload.getDescriptorForType().getFullName());
    if (field == null) {
      throw new IllegalArgumentException("not a control message: " + payload.getDescriptorForType().getFullName());
    }
    return ControlEnvelope.newBuilder().setFromNode(from.value()).setFence(FenceTokens.of(payload)).setField(field, payload).build();
  }

  /** The payload of {@code envelope}, or null when none is set. */
  public static Message unwrap(ControlEnvelope envelope) {
    FieldDescriptor field = envelope.getOneofFieldDescriptor(PAYLOAD);
    return field == null ? null : (Message) envelope.getField(field);
  }

  /** The message type name used in metrics, logs and fault rules, e.g. {@code ScheduleDispatcherRequest}. */
  public static String typeOf(ControlEnvelope envelope) {
    FieldDescriptor field = envelope.getOneofFieldDescriptor(PAYLOAD);
    return field == null ? "none" : field.getMessageType().getName();
  }

  public static String typeOf(Message payload) {
    return payload.getDescriptorForType().getName();
  }
}
