package io.feedline.dispatcher.manager;

import com.google.protobuf.Message;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.Scheduler;
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
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The running side of one changefeed's {@link DispatcherManager} on this node: it owns the source, the
 * sink, the running {@link Dispatcher}s and the heartbeat timer, feeds every input to the manager and
 * performs the {@link ManagerEffects} it returns. Runs on the orchestrator's context.
 */
public final class ManagerRuntime {

  /** Rows a dispatcher pulls and writes per batch. */
  static final int BATCH_ROWS = 1024;

  private final DispatcherManager manager;
  private final Source source;
  private final Sink sink;
  private final Scheduler scheduler;
  private final Outbox outbox;
  private final NoticeLog notices;
  private final DispatcherLifecycle lifecycle;
  private final Map<DispatcherKey, Dispatcher> running = new HashMap<>();
  private final Dispatcher.Listener listener = new Dispatcher.Listener() {
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
    public void failed(DispatcherKey ref, Throwable cause) {
      Dispatcher dispatcher = running.remove(ref);
      if (dispatcher != null) {
        lifecycle.stopped(manager.changefeed(), dispatcher.spec());
      }
      apply(manager.dispatcherStopped(ref, cause));
    }
  };
  private final Scheduler.Cancellable heartbeatTimer;
  private boolean heartbeatQueued;
  private Future<Void> closed;

  public ManagerRuntime(DispatcherManager manager, Source source, Sink sink, Scheduler scheduler, Outbox outbox, NoticeLog notices,
      DispatcherLifecycle lifecycle, Duration heartbeatInterval) {
    this.manager = manager;
    this.source = source;
    this.sink = sink;
    this.scheduler = scheduler;
    this.outbox = outbox;
    this.notices = notices;
    this.lifecycle = lifecycle;
    this.heartbeatTimer = scheduler.periodic(heartbeatInterval.toMillis(), this::sendHeartbeat);
  }

  public DispatcherManager manager() {
    return manager;
  }

  public void bootstrap(NodeId from, long epoch, MaintainerBootstrapRequest request) {
    ManagerEffects effects = manager.bootstrap(from, epoch, request);
    apply(request.hasTableTriggerEventDispatcherId() ? withTablesAtStart(effects) : effects);
  }

  /**
   * The reply to the owner's own-node request also lists the upstream's tables where its table trigger
   * resumes, read from the source (which the pure manager does not hold): the maintainer's span set.
   */
  private ManagerEffects withTablesAtStart(ManagerEffects effects) {
    List<Message> replies = new ArrayList<>();
    for (Message reply : effects.replies()) {
      if (reply instanceof MaintainerBootstrapResponse response && !response.hasError()) {
        SchemaInfo schema = SchemaInfo.newBuilder().addAllTables(source.tablesAt(response.getTriggerCheckpointTs())).build();
        reply = response.toBuilder().addSchemasAtStart(schema).build();
      }
      replies.add(reply);
    }
    return new ManagerEffects(replies, effects.commands(), effects.notices(), effects.statusChanged());
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
   * Stops the write path at once (no dispatcher pulls again, the sink refuses new writes) and releases
   * everything; completes when every dispatcher has stopped and the source and sink are closed.
   * Idempotent. Heartbeats stop: a closed manager has nothing left to report.
   */
  public Future<Void> close() {
    if (closed == null) {
      heartbeatTimer.cancel();
      apply(manager.stopWritePath());
      List<Future<?>> parts = new ArrayList<>();
      running.values().forEach(d -> parts.add(d.stop()));
      parts.add(guarded(source::close));
      parts.add(guarded(sink::close));
      closed = Future.join(parts).mapEmpty();
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

  private void apply(ManagerEffects effects) {
    effects.notices().forEach(n -> notices.report(manager.changefeed(), n));
    effects.replies().forEach(reply -> outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, reply));
    for (ManagerEffects.Command command : effects.commands()) {
      if (command instanceof ManagerEffects.Start start) {
        Dispatcher dispatcher = new Dispatcher(start.spec(), source, sink, scheduler, listener, BATCH_ROWS, manager::epoch);
        running.put(start.spec().ref(), dispatcher);
        dispatcher.start();
      } else if (command instanceof ManagerEffects.Stop stop) {
        Dispatcher dispatcher = running.get(stop.ref());
        Future<Void> stopped = dispatcher == null ? Future.succeededFuture() : dispatcher.stop();
        stopped.onComplete(ar -> {
          if (running.remove(stop.ref()) != null) {
            lifecycle.stopped(manager.changefeed(), dispatcher.spec());
          }
          apply(manager.dispatcherStopped(stop.ref(), null));
        });
      } else if (command instanceof ManagerEffects.Release release) {
        Dispatcher dispatcher = running.get(release.ref());
        if (dispatcher != null) {
          dispatcher.release(release.commitTs(), release.write());
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
      scheduler.schedule(0, this::sendHeartbeat);
    }
  }

  private void sendHeartbeat() {
    heartbeatQueued = false;
    if (closed != null || manager.owner() == null) {
      return;
    }
    outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, manager.heartbeat());
    BlockStatusRequest waiting = manager.blockStatus();
    if (waiting != null) {
      outbox.send(manager.owner(), Role.MAINTAINER_MANAGER, waiting);
    }
  }

  private static Future<Void> guarded(Supplier<Future<Void>> close) {
    try {
      return close.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
