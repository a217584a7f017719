package io.feedline.common.testing;

import com.google.protobuf.Internal;
import com.google.protobuf.Message;
import io.feedline.proto.ControlEnvelope;
import java.util.List;

/** Every payload type a {@link ControlEnvelope} can carry: what "each request type in proto/" means in a test. */
public final class EnvelopeTypes {

  private EnvelopeTypes() {}

  /** The default instance of each payload type of the envelope's oneof, in field order. */
  public static List<Message> payloads() {
    return ControlEnvelope.getDescriptor().getOneofs().get(0).getFields().stream()
        .map(field -> (Message) Internal.getDefaultInstance(messageClass(field.getMessageType().getName())))
        .toList();
  }

  @SuppressWarnings("unchecked")
  private static Class<? extends Message> messageClass(String name) {
    try {
      return (Class<? extends Message>) Class.forName("io.feedline.proto." + name);
    } catch (ClassNotFoundException e) {
      throw new AssertionError("no generated class for envelope payload " + name, e);
    }
  }
}
