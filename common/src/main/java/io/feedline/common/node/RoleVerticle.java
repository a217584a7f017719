package io.feedline.common.node;

import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.feedline.common.log.OncePerKeyLogger;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * A role of a node: one verticle, one Vert.x context that owns the role's state, one event-bus address
 * ({@code feedline.<nodeId>.<role>}) whose well-formed messages arrive in {@link #handle}.
 */
public abstract class RoleVerticle extends VerticleBase {

  protected final NodeContext node;
  private final Role role;
  private MessageConsumer<Object> consumer;

  protected RoleVerticle(NodeContext node, Role role) {
    this.node = node;
    this.role = role;
  }

  public Role role() {
    return role;
  }

  /** The context that owns this role's state; calls into the role from elsewhere must run on it. */
  public Context context() {
    return context;
  }

  /**
   * Sets the role up first, then registers its consumer: a message can arrive the moment the address is
   * known cluster-wide, and must find the role ready.
   */
  @Override
  public Future<?> start() {
    return onStart().compose(v -> node.bus().register(role, this::handle)).map(c -> {
      consumer = c;
      return null;
    });
  }

  @Override
  public Future<?> stop() {
    return onStop().eventually(() -> consumer == null ? Future.succeededFuture() : consumer.unregister());
  }

  /** Role start-up, before the consumer is registered. */
  protected Future<?> onStart() {
    return Future.succeededFuture();
  }

  protected Future<?> onStop() {
    return Future.succeededFuture();
  }

  /** A message this role does not (yet) act on: counted and reported once per type, never an error. */
  protected final void unhandled(Inbound message) {
    Meters.counter(node.metrics(), "feedline.role.unhandled", "Control messages a role has no handler for, by role and type",
        "role", role.segment(), "type", message.type()).increment();
    UNHANDLED_LOG.info(List.of(node.nodeId(), role, message.type()),
        () -> "event=unhandled_message node=" + node.nodeId() + " role=" + role.segment() + " type=" + message.type() + " from=" + message.from());
  }

  private static final OncePerKeyLogger UNHANDLED_LOG = new OncePerKeyLogger(LoggerFactory.getLogger(RoleVerticle.class), 1024);

  /** One inbound control message, on this role's context. May throw: the bus counts and drops it. */
  protected abstract void handle(Inbound message);
}
