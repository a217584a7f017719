package io.feedline.dispatcher.manager;

import com.google.protobuf.Message;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.Scheduler;
import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.dataplane.DataLane;
import io.feedline.dispatcher.dispatcher.Dispatcher;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.source.Source;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MergeDispatcherRequest;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SchemaInfo;
import io.feedline.proto.SpanHold;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The running side of one changefeed's {@link DispatcherManager} on this node: it owns the source, the
 * sink, the running {@link Dispatcher}s and the heartbeat timer, feeds every input to the manager and
 * performs the {@link DispatcherManagerEffects} it returns.
 *
 * <p>Two threads, never one lock: the manager, its heartbeats and every control message run on the
 * orchestrator's (control) context; the source, the sink and the dispatchers run on the changefeed's
 * {@link DataLane}. Commands cross to the lane as tasks, and what dispatchers report comes back through
 * {@link DispatcherReports}, so no data work ever delays a control message. Public methods are called on
 * the control context.
 */
public final class ManagerRuntime {

  /** Rows a dispatcher pulls and writes per batch. */
  static final int BATCH_ROWS = 1024;

  private final DispatcherManager manager;
  private final Source source;
  private final Sink sink;
  private final DataLane.Tenant tenant;
  private final DataLane lane;
  private final Scheduler control;
  private final Outbox outbox;
  private final NoticeLog notices;
  private final DispatcherLifecycle lifecycle;
  /** The dispatchers started and not yet seen stopped; kept on the control context. */
  private final Map<DispatcherKey, Dispatcher> running = new HashMap<>();
  /** The manager's epoch, for the dispatchers' writes on the lane (the fencing token they carry). */
  private volatile long writeEpoch;
  /** What the dispatchers report, told on the control context. */
  private final Dispatcher.Listener onControl = new Dispatcher.Listener() {
    @Override
    public void working(DispatcherKey ref) {
      Dispatcher dispatcher = running.get(ref);
      if (dispatcher != null) {
        lifecycle.working(manager.changefeed(), dispatcher.spec());
      }
      apply(manager.dispatcherWorking(ref));
    }

    @Override
    public void progressed(DispatcherKey ref, long checkpointTs, long resolvedTs) {
      manager.dispatcherProgressed(ref, checkpointTs, resolvedTs);
    }

    @Override
    public void blocked(DispatcherKey ref, DdlEvent ddl) {
      apply(manager.dispatcherBlocked(ref, ddl));
    }

    @Override
    public void passed(DispatcherKey ref, DdlEvent ddl, boolean written) {
      apply(manager.dispatcherPassed(ref, ddl));
    }

    @Override
    public void failed(DispatcherKey ref, Throwable cause, SpanHold side) {
      Dispatcher dispatcher = running.remove(ref);
      if (dispatcher != null) {
        lifecycle.stopped(manager.changefeed(), dispatcher.spec());
      }
      apply(manager.dispatcherFailed(ref, cause, side));
    }
  };
  private final DispatcherReports reports;
  private final Scheduler.Cancellable heartbeatTimer;
  private boolean heartbeatQueued;
  private Future<Void> closed;

  /**
   * @param tenant the changefeed's place on the node's data plane, where source, sink and dispatchers run
   * @param control the orchestrator's context
   */
  public ManagerRuntime(DispatcherManager manager, Source source, Sink sink, DataLane.Tenant tenant, Scheduler control, Outbox outbox,
      NoticeLog notices, DispatcherLifecycle lifecycle, Duration heartbeatInterval) {
    this.manager = manager;
    this.source = source;
    this.sink = sink;
    this.tenant = tenant;
    this.lane = tenant.lane();
    this.control = control;
    this.outbox = outbox;
    this.notices = notices;
    this.lifecycle = lifecycle;
    this.reports = new DispatcherReports(control, onControl);
    this.heartbeatTimer = control.periodic(heartbeatInterval.toMillis(), this::sendHeartbeat);
  }

  public DispatcherManager manager() {
    return manager;
  }

  public void bootstrap(NodeId from, long epoch, MaintainerBootstrapRequest request) {
    DispatcherManagerEffects effects = manager.bootstrap(from, epoch, request);
    if (!request.hasTableTriggerEventDispatcherId()) {
      apply(effects);
      return;
    }
    // The reply to the owner's own-node request also lists the upstream's tables where its table trigger resumes,
    // which the source may have to ask its upstream for: everything else takes effect now, the reply follows
    // (a late reply is a delayed message, which the maintainer's epoch fence already handles).
    List<Message> replies = effects.replies();
    apply(new DispatcherManagerEffects(List.of(), effects.commands(), effects.notices(), effects.statusChanged()));
    for (Message reply : replies) {
      if (!(reply instanceof MaintainerBootstrapResponse response) || response.hasError()) {
        outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, reply);
        continue;
      }
      source.tablesAt(response.getTriggerCheckpointTs()).onComplete(tables -> control.schedule(0, () -> {
        if (closed != null) {
          return;
        }
        if (tables.failed()) {
          // No answer: the maintainer asks again, and the source with it. Said once per cause in the node's notices.
          notices.report(manager.changefeed(), Notice.warn(MaintainerBootstrapResponse.class.getSimpleName(), "source_tables_failed",
              "cannot list the upstream's tables at " + response.getTriggerCheckpointTs() + ": " + SinkUris.redact(tables.cause().getMessage())));
          return;
        }
        outbox.send(manager.owner(), Role.MAINTAINER_MANAGER,
            response.toBuilder().addSchemasAtStart(SchemaInfo.newBuilder().addAllTables(tables.result())).build());
      }));
    }
  }

  public void postBootstrap(MaintainerPostBootstrapRequest request) {
    apply(manager.postBootstrap(request));
  }

  public void schedule(ScheduleDispatcherRequest request) {
    apply(manager.schedule(request));
  }

  public void merge(MergeDispatcherRequest request) {
    apply(manager.merge(request));
  }

  public void heartbeatResponse(HeartbeatResponse response) {
    apply(manager.heartbeatResponse(response));
  }

  /**
   * Stops the write path at once (the sink refuses new writes from now on, whatever the lane is doing; no
   * dispatcher reads again) and releases everything; completes, on the control context, when every
   * dispatcher has stopped, the source and sink are closed and the changefeed has left its lane.
   * Idempotent. Heartbeats stop: a closed manager has nothing left to report.
   */
  public Future<Void> close() {
    if (closed == null) {
      heartbeatTimer.cancel();
      apply(manager.stopWritePath());
      // The one sink call made off the lane (Sink#close is thread-safe): a self-fence must not wait for a busy lane.
      Future<Void> sinkClosed = guarded(sink::close);
      List<Dispatcher> dispatchers = List.copyOf(running.values());
      Promise<Void> done = Promise.promise();
      closed = done.future();
      lane.execute(() -> {
        List<Future<?>> parts = new ArrayList<>();
        dispatchers.forEach(d -> parts.add(d.stop()));
        parts.add(guarded(source::close));
        parts.add(sinkClosed);
        // The sink's close may complete on any thread: the tenant leaves on its lane.
        Future.join(parts).onComplete(ar -> lane.execute(() -> {
          tenant.close();
          control.schedule(0, () -> done.handle(ar.mapEmpty()));
        }));
      });
    }
    return closed;
  }

  /** Close has begun. */
  public boolean closing() {
    return closed != null;
  }

  /** Close has finished (successfully or not): nothing of this manager writes any more. */
  public boolean closeFinished() {
    return closed != null && closed.isComplete();
  }

  private void apply(DispatcherManagerEffects effects) {
    writeEpoch = manager.epoch();
    effects.notices().forEach(n -> notices.report(manager.changefeed(), n));
    effects.replies().forEach(reply -> outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, reply));
    for (DispatcherManagerEffects.Command command : effects.commands()) {
      if (command instanceof DispatcherManagerEffects.Start start) {
        Dispatcher dispatcher = new Dispatcher(start.spec(), source, sink, tenant, reports, BATCH_ROWS, () -> writeEpoch);
        running.put(start.spec().ref(), dispatcher);
        lane.execute(dispatcher::start);
      } else if (command instanceof DispatcherManagerEffects.Stop stop) {
        Dispatcher dispatcher = running.get(stop.ref());
        Runnable stopped = () -> {
          if (running.remove(stop.ref()) != null) {
            lifecycle.stopped(manager.changefeed(), dispatcher.spec());
          }
          apply(manager.dispatcherStopped(stop.ref(), null));
        };
        if (dispatcher == null) {
          stopped.run();
        } else {
          lane.execute(() -> dispatcher.stop().onComplete(ar -> control.schedule(0, stopped)));
        }
      } else if (command instanceof DispatcherManagerEffects.Release release) {
        Dispatcher dispatcher = running.get(release.ref());
        if (dispatcher != null) {
          lane.execute(() -> dispatcher.release(release.commitTs(), release.write()));
        }
      }
    }
    if (effects.statusChanged()) {
      heartbeatSoon();
    }
  }

  /** A state change goes out promptly; changes within one turn share one heartbeat. */
  private void heartbeatSoon() {
    if (!heartbeatQueued && closed == null) {
      heartbeatQueued = true;
      control.schedule(0, this::sendHeartbeat);
    }
  }

  private void sendHeartbeat() {
    heartbeatQueued = false;
    if (closed != null || manager.owner() == null) {
      return;
    }
    manager.sinkStalls(sinkStalls()); // a changed hold goes out in this very heartbeat
    outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, manager.heartbeat());
    BlockStatusRequest waiting = manager.blockStatus();
    if (waiting != null) {
      outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, waiting);
    }
  }

  /** The running dispatchers whose sink write has been outstanding for {@link DispatcherManager#SINK_STALL_MILLIS} or more. */
  private Map<DispatcherKey, Long> sinkStalls() {
    long stalledBefore = lane.scheduler().nowMillis() - DispatcherManager.SINK_STALL_MILLIS;
    Map<DispatcherKey, Long> stalls = new HashMap<>();
    running.forEach((ref, dispatcher) -> {
      long since = dispatcher.sinkWriteOutstandingSince();
      if (since != 0 && since <= stalledBefore) {
        stalls.put(ref, since);
      }
    });
    return stalls;
  }

  private static Future<Void> guarded(Supplier<Future<Void>> close) {
    try {
      return close.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
