package io.feedline.dispatcher;

import io.feedline.common.config.DataPlaneSettings;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metrics.Meters;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;
import io.feedline.common.time.Scheduler;
import io.feedline.common.time.VertxScheduler;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.PersistedCheckpoints;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.orchestrator.DispatcherOrchestrator;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dispatcher-orchestrator role of a node: receives the maintainers' dispatcher-side requests on the
 * event bus and hands them to a {@link DispatcherOrchestrator}, which owns the decisions. Wires in the
 * node's timings, bus, metrics and the self-fence on session loss.
 */
public final class DispatcherOrchestratorVerticle extends RoleVerticle {

  /** How long node shutdown waits for sinks to close before it goes on without them. */
  static final long STOP_GRACE_MILLIS = 5_000;

  /** Registers what to run when the node's metastore session is lost. */
  @FunctionalInterface
  public interface SessionLoss {
    void onLost(Runnable action);

    SessionLoss NEVER = action -> {};
  }

  private final SessionLoss sessionLoss;
  private final Endpoints endpoints;
  private DispatcherOrchestrator orchestrator;
  /** Counts copied on the orchestrator's context every dispatcher heartbeat, for threads that must not read it. */
  private final AtomicInteger dispatcherGauge = new AtomicInteger();
  private final AtomicInteger managerGauge = new AtomicInteger();
  private Scheduler.Cancellable gaugeRefresh;
  private DataPlane dataPlane;

  /** The production wiring: the node's session, the source and sink providers on the class path. */
  public DispatcherOrchestratorVerticle(NodeContext node) {
    this(node, node.session() == null ? SessionLoss.NEVER : action -> node.session().onLost(v -> action.run()), new ProviderEndpoints());
  }

  public DispatcherOrchestratorVerticle(NodeContext node, SessionLoss sessionLoss, Endpoints endpoints) {
    super(node, Role.DISPATCHER_ORCHESTRATOR);
    this.sessionLoss = sessionLoss;
    this.endpoints = endpoints;
  }

  @Override
  protected Future<?> onStart() {
    DataPlaneSettings settings = node.config().dataPlane();
    return DataPlane.deploy(vertx, settings.threads(), settings.memoryQuotaBytes(), node.metrics()).onSuccess(this::startOn);
  }

  private void startOn(DataPlane dataPlane) {
    this.dataPlane = dataPlane;
    Context context = vertx.getOrCreateContext();
    Scheduler scheduler = VertxScheduler.onCurrentContext(vertx);
    orchestrator = new DispatcherOrchestrator(node.nodeId(), endpoints, dataPlane, scheduler, node.bus()::send, node.metrics(),
        node.config().timings().dispatcherHeartbeat(), PersistedCheckpoints.inStore(node.store(), node.keys()));
    // The session callback may come from any thread; the self-fence runs on this role's context.
    sessionLoss.onLost(() -> context.runOnContext(v -> orchestrator.selfFence()));
    // The scrape runs on another thread and must not read the orchestrator: counts are copied here.
    Meters.gauge(node.metrics(), "feedline.dispatcher.dispatchers", "Dispatchers running on this node", dispatcherGauge, AtomicInteger::get);
    Meters.gauge(node.metrics(), "feedline.dispatcher.managers", "Dispatcher managers (changefeeds with dispatchers) on this node", managerGauge,
        AtomicInteger::get);
    gaugeRefresh = scheduler.periodic(node.config().timings().dispatcherHeartbeat().toMillis(), () -> {
      dispatcherGauge.set(orchestrator.dispatcherCount());
      managerGauge.set(orchestrator.managerCount());
    });
  }

  /** Dispatchers running on this node, as of the last dispatcher heartbeat; safe to call from any thread. */
  public long dispatcherCount() {
    return dispatcherGauge.get();
  }

  /** The orchestrator, for read-only views (admin, tests). Use it on {@link #context()} only. */
  public DispatcherOrchestrator orchestrator() {
    return orchestrator;
  }

  @Override
  protected Future<?> onStop() {
    if (gaugeRefresh != null) {
      gaugeRefresh.cancel();
    }
    if (orchestrator == null) {
      return dataPlane == null ? Future.succeededFuture() : dataPlane.close();
    }
    Promise<Void> stopped = Promise.promise();
    long grace = vertx.setTimer(STOP_GRACE_MILLIS, t -> stopped.tryComplete());
    orchestrator.closeAll().onComplete(ar -> {
      vertx.cancelTimer(grace);
      stopped.tryComplete();
    });
    // The lanes go last: the managers' dispatchers, sources and sinks run on them until they have closed.
    return stopped.future().compose(v -> dataPlane.close());
  }

  @Override
  protected void handle(Inbound message) {
    if (orchestrator.handles(message.payload())) {
      orchestrator.handle(message);
    } else {
      unhandled(message);
    }
  }
}
