package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ControlEnvelope;
import io.feedline.proto.DispatcherId;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class ControlPayloadsTest {

  private static final NodeId N1 = NodeId.of("n1");

  @Test
  void everyControlMessageTypeRoundTripsThroughEnvelopeAndCodec() throws Exception {
    ControlEnvelopeCodec codec = new ControlEnvelopeCodec();
    for (FieldDescriptor field : ControlEnvelope.getDescriptor().getOneofs().get(0).getFields()) {
      // A default instance of every payload type, with its epoch set where it has one.
      Message.Builder b = DynamicMessage.newBuilder(field.getMessageType());
      Message prototype = (Message) ControlEnvelope.getDefaultInstance().getField(field);
      Message.Builder typed = prototype.newBuilderForType().mergeFrom(b.build().toByteString());
      FieldDescriptor epoch = field.getMessageType().findFieldByName("epoch");
      if (epoch != null) {
        typed.setField(epoch, 42L);
      }
      Message payload = typed.build();

      ControlEnvelope envelope = ControlPayloads.wrap(N1, payload);
      assertThat(ControlPayloads.typeOf(envelope)).isEqualTo(field.getMessageType().getName());
      assertThat(ControlPayloads.unwrap(envelope)).isEqualTo(payload);

      Buffer wire = Buffer.buffer();
      codec.encodeToWire(wire, envelope);
      assertThat(codec.decodeFromWire(0, wire)).isEqualTo(envelope);
    }
  }

  @Test
  void everyOwnershipMessageCarriesAnEpoch() {
    for (FieldDescriptor field : ControlEnvelope.getDescriptor().getOneofs().get(0).getFields()) {
      String type = field.getMessageType().getName();
      boolean nodeLevel = type.startsWith("Coordinator") || type.startsWith("NodeHeartbeat") || type.startsWith("SetNode")
          || type.startsWith("SetDispatcherDrainTarget") || type.equals("MaintainerHeartbeat");
      if (!nodeLevel) {
        assertThat(field.getMessageType().findFieldByName("epoch")).as(type + " has an epoch").isNotNull();
      }
    }
  }

  @Test
  void nonControlMessagesAreRefused() {
    assertThatThrownBy(() -> ControlPayloads.wrap(N1, DispatcherId.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a control message");
  }

  @Test
  void garbageOnTheWireDecodesToUndecodableInsteadOfThrowing() {
    ControlEnvelopeCodec codec = new ControlEnvelopeCodec();
    Buffer garbage = Buffer.buffer().appendInt(5).appendBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    assertThat(codec.decodeFromWire(0, garbage)).isInstanceOf(ControlEnvelopeCodec.Undecodable.class);

    Buffer lying = Buffer.buffer().appendInt(1_000_000).appendBytes(new byte[] {1, 2});
    assertThat(codec.decodeFromWire(0, lying))
        .isInstanceOfSatisfying(ControlEnvelopeCodec.Undecodable.class, u -> assertThat(u.reason()).contains("exceeds"));

    assertThat(codec.decodeFromWire(0, Buffer.buffer(new byte[] {1})))
        .isInstanceOfSatisfying(ControlEnvelopeCodec.Undecodable.class, u -> assertThat(u.reason()).contains("truncated"));
  }

  @Test
  void decodeHonoursThePositionInASharedBuffer() {
    ControlEnvelopeCodec codec = new ControlEnvelopeCodec();
    ControlEnvelope envelope = ControlPayloads.wrap(N1, ScheduleDispatcherRequest.newBuilder().setChangefeedId("cf").setEpoch(7).build());
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, envelope);
    assertThat(codec.decodeFromWire(6, wire)).isEqualTo(envelope);
  }
}
