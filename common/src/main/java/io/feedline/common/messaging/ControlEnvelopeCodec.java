package io.feedline.common.messaging;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.proto.ControlEnvelope;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * The event-bus codec of {@link ControlEnvelope}: a length-prefixed protobuf on the wire, the same
 * immutable object locally. Bytes that do not parse decode to {@link Undecodable} instead of throwing,
 * so the receiving handler can count and drop them: a garbage payload must never kill a handler.
 */
public final class ControlEnvelopeCodec implements MessageCodec<ControlEnvelope, Object> {

  public static final String NAME = "feedline-control-envelope";

  /** What a receiver gets for bytes that are not a control envelope. */
  public record Undecodable(String reason, int size) {}

  /** Registers the codec as the default for {@link ControlEnvelope}; safe to call more than once. */
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(ControlEnvelope.class, new ControlEnvelopeCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // Several roles of one node share the Vertx instance; the first registration wins.
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, ControlEnvelope envelope) {
    byte[] bytes = envelope.toByteArray();
    buffer.appendInt(bytes.length);
    buffer.appendBytes(bytes);
  }

  @Override
  public Object decodeFromWire(int pos, Buffer buffer) {
    if (buffer.length() - pos < 4) {
      return new Undecodable("truncated length prefix", buffer.length() - pos);
    }
    int length = buffer.getInt(pos);
    if (length < 0 || length > buffer.length() - pos - 4) {
      return new Undecodable("length prefix " + length + " exceeds the " + (buffer.length() - pos - 4) + " bytes present", buffer.length() - pos);
    }
    try {
      return ControlEnvelope.parseFrom(buffer.getBytes(pos + 4, pos + 4 + length));
    } catch (InvalidProtocolBufferException e) {
      return new Undecodable("not a control envelope: " + e.getMessage(), length);
    }
  }

  @Override
  public Object transform(ControlEnvelope envelope) {
    return envelope;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
