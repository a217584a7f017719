package io.feedline.common.messaging;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.metrics.Meters;
import io.feedline.proto.ControlEnvelope;
import io.feedline.proto.FenceToken;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's access to the control plane's event bus: fire-and-forget sends of control messages to a
 * role on a node, and handlers for this node's roles. Every message is wrapped in a
 * {@link ControlEnvelope} carrying this node's id. Protocols converge by periodic resend to idempotent
 * handlers (see {@link Resender}), so nothing here waits for replies.
 *
 * <p>Remote input is never trusted: a payload that is not a well-formed envelope, and a handler that
 * throws on one, are counted ({@code feedline.bus.malformed}, {@code feedline.bus.handler.errors}),
 * logged once per reason, and dropped; the consumer stays registered.
 */
public final class ControlBus implements Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(ControlBus.class);

  /** Why an inbound payload was dropped before reaching a handler; the metric's {@code reason} tag. */
  enum Malformed {
    UNDECODABLE,
    UNEXPECTED_BODY,
    NO_PAYLOAD,
    NO_SENDER,
    FENCE_MISMATCH
  }

  private final Vertx vertx;
  private final NodeId self;
  private final MeterRegistry metrics;
  private final List<MessageInterceptor> outbound = new CopyOnWriteArrayList<>();
  private final List<MessageInterceptor> inbound = new CopyOnWriteArrayList<>();
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 1024);

  public ControlBus(Vertx vertx, NodeId self, MeterRegistry metrics) {
    this.vertx = vertx;
    this.self = self;
    this.metrics = metrics;
    ControlEnvelopeCodec.register(vertx);
  }

  public NodeId self() {
    return self;
  }

  public void addOutboundInterceptor(MessageInterceptor interceptor) {
    outbound.add(interceptor);
  }

  public void addInboundInterceptor(MessageInterceptor interceptor) {
    inbound.add(interceptor);
  }

  /** Sends {@code payload} to {@code role} on node {@code to}. Fire-and-forget: loss is healed by resend. */
  @Override
  public void send(NodeId to, Role role, Message payload) {
    ControlEnvelope envelope = ControlPayloads.wrap(self, payload);
    String type = ControlPayloads.typeOf(payload);
    Route route = new Route(self, to, role);
    String address = Addresses.of(to, role);
    apply(decide(outbound, route, type, envelope), type, () -> {
      Meters.counter(metrics, "feedline.bus.sent", "Control messages this node sent, by type", "type", type).increment();
      vertx.eventBus().send(address, envelope);
    });
  }

  /**
   * Registers {@code handler} for {@code role} on this node. The handler runs on the calling context
   * (the role's verticle) and only ever sees well-formed messages.
   */
  public Future<MessageConsumer<Object>> register(Role role, Handler<Inbound> handler) {
    MessageConsumer<Object> consumer = vertx.eventBus().consumer(Addresses.of(self, role));
    consumer.handler(message -> receive(role, message, handler));
    return consumer.completion().map(consumer);
  }

  private void receive(Role role, io.vertx.core.eventbus.Message<Object> message, Handler<Inbound> handler) {
    Object body = message.body();
    if (!(body instanceof ControlEnvelope envelope)) {
      Malformed reason = body instanceof ControlEnvelopeCodec.Undecodable ? Malformed.UNDECODABLE : Malformed.UNEXPECTED_BODY;
      String detail = body instanceof ControlEnvelopeCodec.Undecodable u
          ? u.reason()
          : "body of type " + (body == null ? "null" : body.getClass().getName());
      malformed(role, message, reason, detail);
      return;
    }
    Message payload = ControlPayloads.unwrap(envelope);
    if (payload == null) {
      malformed(role, message, Malformed.NO_PAYLOAD, "envelope from '" + envelope.getFromNode() + "' has no payload");
      return;
    }
    if (envelope.getFromNode().isBlank()) {
      malformed(role, message, Malformed.NO_SENDER, "envelope of " + ControlPayloads.typeOf(payload) + " has no sender node id");
      return;
    }
    NodeId from = NodeId.of(envelope.getFromNode());
    String type = ControlPayloads.typeOf(payload);
    FenceToken fence = FenceTokens.of(payload);
    if (envelope.hasFence() && !envelope.getFence().equals(fence)) {
      // The token is what admission reads; one that says otherwise than the payload is not trusted.
      malformed(role, message, Malformed.FENCE_MISMATCH, "envelope of " + type + " from " + from + " carries fence "
          + TextFormat.shortDebugString(envelope.getFence()) + " but its payload says " + TextFormat.shortDebugString(fence));
      return;
    }
    Inbound in = new Inbound(from, type, payload, fence);
    apply(decide(inbound, new Route(from, self, role), type, envelope), type, () -> dispatch(role, in, handler));
  }

  private void dispatch(Role role, Inbound in, Handler<Inbound> handler) {
    Meters.counter(metrics, "feedline.bus.received", "Control messages this node's roles received, by role and type",
        "role", role.segment(), "type", in.type()).increment();
    try {
      handler.handle(in);
    } catch (RuntimeException e) {
      // A handler must not die on remote input; count it, report it once per kind, keep consuming.
      Meters.counter(metrics, "feedline.bus.handler.errors", "Control messages whose handler failed, by role and type",
          "role", role.segment(), "type", in.type()).increment();
      onceLog.warn(List.of("handler", role, in.type(), e.getClass()),
          () -> "event=handler_error role=" + role.segment() + " type=" + in.type() + " from=" + in.from() + " error=" + e);
      LOG.debug("handler error", e);
    }
  }

  private void malformed(Role role, io.vertx.core.eventbus.Message<Object> message, Malformed reason, String detail) {
    Meters.counter(metrics, "feedline.bus.malformed", "Event-bus payloads that are not control messages, by role and reason",
        "role", role.segment(), "reason", reason.name().toLowerCase()).increment();
    onceLog.warn(List.of("malformed", role, reason),
        () -> "event=malformed_payload role=" + role.segment() + " reason=" + reason.name().toLowerCase() + " detail=\"" + detail + "\"");
    if (message.replyAddress() != null) {
      message.fail(400, "malformed control message: " + detail);
    }
  }

  private static Verdict decide(List<MessageInterceptor> chain, Route route, String type, ControlEnvelope envelope) {
    for (MessageInterceptor interceptor : chain) {
      Verdict verdict = interceptor.intercept(route, type, envelope);
      if (!(verdict instanceof Verdict.Deliver)) {
        return verdict;
      }
    }
    return Verdict.DELIVER;
  }

  /** Performs a verdict; one place for both directions. */
  private void apply(Verdict verdict, String type, Runnable deliver) {
    if (verdict instanceof Verdict.Deliver) {
      deliver.run();
      return;
    }
    String kind = verdict.getClass().getSimpleName().toLowerCase();
    Meters.counter(metrics, "feedline.bus.intercepted", "Control messages a fault rule dropped or delayed (simulation and tests), by type and verdict",
        "type", type, "verdict", kind).increment();
    if (verdict instanceof Verdict.Delay d) {
      vertx.setTimer(Math.max(1, d.millis()), t -> deliver.run());
    } else if (verdict instanceof Verdict.Duplicate d) {
      deliver.run();
      for (int i = 1; i <= d.extraCopies(); i++) {
        vertx.setTimer(Math.max(1, d.spacingMillis() * i), t -> deliver.run());
      }
    }
  }
}
