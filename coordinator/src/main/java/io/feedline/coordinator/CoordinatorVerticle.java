package io.feedline.coordinator;

import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;
import io.feedline.common.time.VertxScheduler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator role of a node: runs the node's {@link CoordinatorCandidacy} on this verticle's context.
 * Undeploying resigns so another node takes over without waiting for the lease to expire.
 */
public final class CoordinatorVerticle extends RoleVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorVerticle.class);

  private CoordinatorCandidacy candidacy;
  /** False once the node stood down: it never campaigns again. Set from any thread, also before this verticle is deployed. */
  private final AtomicBoolean candidate = new AtomicBoolean(true);

  public CoordinatorVerticle(NodeContext node) {
    super(node, Role.COORDINATOR);
  }

  /** The running coordinator, when this node leads. Call on this verticle's context (or for inspection in tests). */
  public Optional<Coordinator> coordinator() {
    return candidacy == null ? Optional.empty() : candidacy.coordinator();
  }

  @Override
  protected Future<?> onStart() {
    candidacy = new CoordinatorCandidacy(node, node.bus(), new VertxScheduler(vertx, context, Clock.systemUTC()), Clock.systemUTC(), candidate);
    node.membership().onChange(change -> context.runOnContext(v -> candidacy.onMembership(change)));
    return Future.succeededFuture();
  }

  /**
   * Starts campaigning. The node calls this once its admin API serves: a coordinator elected before that
   * could not be reached by the requests other nodes forward to it, and every create failed until it could.
   */
  public void startCampaign() {
    context.runOnContext(v -> candidacy.campaign());
  }

  /** Resigns the leadership (admin "coordinator resign"): another node is elected; this one campaigns again. */
  public Future<Void> resign() {
    return candidacy == null ? Future.succeededFuture() : candidacy.resign();
  }

  /**
   * Takes this node out of the election for good (see {@link CoordinatorCandidacy#standDown}). Callable from any
   * thread, also before this verticle is deployed (it then never campaigns). Idempotent.
   */
  public void standDown(String reason) {
    if (!candidate.compareAndSet(true, false)) {
      return;
    }
    Context ctx = context();
    if (ctx != null) {
      ctx.runOnContext(v -> candidacy.standDown(reason));
    } else {
      LOG.info("event=coordinator_candidacy_withdrawn node={} reason=\"{}\" before=start", node.nodeId(), reason);
    }
  }

  /** Whether this node still campaigns (it has not stood down). */
  public boolean candidate() {
    return candidate.get();
  }

  @Override
  protected Future<?> onStop() {
    return candidacy == null ? Future.succeededFuture() : candidacy.stop();
  }

  @Override
  protected void handle(Inbound message) {
    if (!candidacy.handle(message)) {
      unhandled(message); // not leading: a message for an earlier coordinator on this node
    }
  }

  /** For tests and the admin API: the node this verticle belongs to. */
  public NodeId nodeId() {
    return node.nodeId();
  }
}
