package io.feedline.maintainer;

import io.feedline.common.config.Timings;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;
import io.feedline.common.time.VertxScheduler;
import io.feedline.maintainer.changefeed.ChangefeedMaintainerFactory;
import io.feedline.maintainer.manager.MaintainerManager;
import io.feedline.maintainer.manager.MaintainerManagerRuntime;
import io.feedline.proto.NodeLiveness;
import io.vertx.core.Future;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The maintainer-manager role of a node: answers the coordinator's bootstrap, add and remove commands,
 * hosts this node's maintainers, reports them in maintainer heartbeats and routes dispatcher-side traffic
 * to them. The decisions are {@link MaintainerManager}'s; this verticle only owns them on its context.
 * Maintainers' resend timers are Vert.x timers of this context, so undeploying cancels them too.
 */
public final class MaintainerManagerVerticle extends RoleVerticle {

  private final LongSupplier dispatchers;
  private final Consumer<NodeLiveness> onLivenessChange;
  private MaintainerManagerRuntime runtime;

  /** A node without a dispatcher role to count (tests of the maintainer protocol). */
  public MaintainerManagerVerticle(NodeContext node) {
    this(node, () -> 0, liveness -> { });
  }

  /**
   * @param dispatchers how many dispatchers run on this node; read on this verticle's context, so it must
   *     be safe to call from any thread
   * @param onLivenessChange told of every change of this node's liveness, on this verticle's context
   */
  public MaintainerManagerVerticle(NodeContext node, LongSupplier dispatchers, Consumer<NodeLiveness> onLivenessChange) {
    super(node, Role.MAINTAINER_MANAGER);
    this.dispatchers = dispatchers;
    this.onLivenessChange = onLivenessChange;
  }

  @Override
  protected Future<?> onStart() {
    Timings timings = node.config().timings();
    VertxScheduler scheduler = VertxScheduler.onCurrentContext(vertx);
    Outbox outbox = node.bus()::send;
    MaintainerServices services = new MaintainerServices(node.nodeId(), outbox, scheduler, timings.resendInterval(),
        () -> node.membership().members().keySet());
    MaintainerManager manager = new MaintainerManager(node.nodeId(), node.nodeEpoch(), timings,
        new ChangefeedMaintainerFactory(services, timings, node.metrics()), dispatchers,
        () -> node.store().outage().map(o -> o.since().toEpochMilli()).orElse(0L), node.metrics());
    runtime = new MaintainerManagerRuntime(manager, outbox, scheduler, timings.maintainerHeartbeat());
    runtime.onLivenessChange(onLivenessChange);
    runtime.start();
    if (node.session() != null) {
      // The lease callback may come from any thread; the manager's state is only touched on its context.
      var ctx = context;
      node.session().onLost(v -> ctx.runOnContext(x -> runtime.sessionLost()));
    }
    return Future.succeededFuture();
  }

  /** The changefeeds whose maintainer runs here (not stopping), with epochs. Call on {@link #context()}. */
  public java.util.Map<io.feedline.common.id.ChangefeedId, Long> runningMaintainers() {
    return runtime.manager().runningMaintainers();
  }

  /** This node's liveness as the manager holds it. Call on {@link #context()}. */
  public NodeLiveness liveness() {
    return runtime.manager().liveness();
  }

  @Override
  protected Future<?> onStop() {
    runtime.stop();
    return Future.succeededFuture();
  }

  @Override
  protected void handle(Inbound message) {
    if (!runtime.handle(message)) {
      unhandled(message);
    }
  }
}
