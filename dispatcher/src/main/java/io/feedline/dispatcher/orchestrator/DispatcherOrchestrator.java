package io.feedline.dispatcher.orchestrator;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.feedline.common.concurrent.KeyedSerialExecutor;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlPayloads;
import io.feedline.common.messaging.FencedInbox;
import io.feedline.common.messaging.FencedInbox.Rule;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.Scheduler;
import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.dataplane.DataLane;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.PersistedCheckpoints;
import io.feedline.dispatcher.manager.DispatcherLifecycle;
import io.feedline.dispatcher.manager.DispatcherManager;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.manager.Notice;
import io.feedline.dispatcher.manager.NoticeLog;
import io.feedline.dispatcher.source.Source;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MergeDispatcherRequest;
import io.feedline.proto.RunningError;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's dispatcher orchestrator: one {@link ManagerRuntime} per changefeed, created by a maintainer's
 * bootstrap and dropped by its close, behind the DESIGN §3 fence.
 *
 * <p>Every request of a changefeed runs on that changefeed's lane of a {@link KeyedSerialExecutor}, so
 * requests of one changefeed never interleave and requests of different changefeeds never wait for
 * each other: no node-wide lock exists. Nothing on a lane waits for a sink to close: close starts
 * asynchronously and is polled by the maintainer's resends, so a sink that takes 10 s to close holds up
 * nobody. Runs on one context; never throws on remote input.
 */
public final class DispatcherOrchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(DispatcherOrchestrator.class);

  /** The source of a changefeed whose config names none: the embedded, deterministic upstream. */
  public static final String DEFAULT_SOURCE = "datagen://?tables=16&seed=1&rate=1000";
  /** Requests of one changefeed that may wait behind a slow one; more are dropped (the maintainer resends). */
  static final int MAX_WAITING_PER_CHANGEFEED = 256;

  private static final String ROLE = Role.DISPATCHER_ORCHESTRATOR.segment();

  private final NodeId self;
  private final Endpoints endpoints;
  private final DataPlane dataPlane;
  private final Scheduler scheduler;
  private final Outbox outbox;
  private final NoticeLog notices;
  private final Duration heartbeatInterval;
  private final ChangefeedFences fences = new ChangefeedFences();
  /** The one door of the requests above: each admitted by its fence rule before its handler runs. */
  private final FencedInbox<Future<Void>> inbox;
  private final PersistedCheckpoints checkpoints;
  private final KeyedSerialExecutor<ChangefeedId> lanes = new KeyedSerialExecutor<>(MAX_WAITING_PER_CHANGEFEED);
  private final Map<ChangefeedId, ManagerRuntime> managers = new HashMap<>();
  private boolean selfFenced;
  private DispatcherLifecycle lifecycle = DispatcherLifecycle.NONE;

  /** An orchestrator whose endpoints see no persisted checkpoints (tests, simulations). */
  public DispatcherOrchestrator(NodeId self, Endpoints endpoints, DataPlane dataPlane, Scheduler scheduler, Outbox outbox,
      MeterRegistry metrics, Duration heartbeatInterval) {
    this(self, endpoints, dataPlane, scheduler, outbox, metrics, heartbeatInterval, PersistedCheckpoints.NONE);
  }

  /**
   * @param dataPlane where the changefeeds' sources, sinks and dispatchers run
   * @param scheduler this orchestrator's (control) context
   * @param checkpoints the cluster's persisted changefeed checkpoints, which sources that keep state upstream follow
   */
  public DispatcherOrchestrator(NodeId self, Endpoints endpoints, DataPlane dataPlane, Scheduler scheduler, Outbox outbox,
      MeterRegistry metrics, Duration heartbeatInterval, PersistedCheckpoints checkpoints) {
    this.self = self;
    this.checkpoints = checkpoints;
    this.endpoints = endpoints;
    this.dataPlane = dataPlane;
    this.scheduler = scheduler;
    this.outbox = outbox;
    this.notices = new NoticeLog(metrics);
    this.heartbeatInterval = heartbeatInterval;
    this.inbox = FencedInbox.<Future<Void>>builder(ROLE, metrics)
        .on(MaintainerBootstrapRequest.class, Rule.BOOTSTRAP, this::bootstrap)
        .on(MaintainerPostBootstrapRequest.class, Rule.CONTROL, a -> control(a, runtime -> runtime.postBootstrap(a.payload())))
        .on(ScheduleDispatcherRequest.class, Rule.CONTROL, a -> control(a, runtime -> runtime.schedule(a.payload())))
        .on(MergeDispatcherRequest.class, Rule.CONTROL, a -> control(a, runtime -> runtime.merge(a.payload())))
        .on(HeartbeatResponse.class, Rule.CONTROL, a -> control(a, runtime -> runtime.heartbeatResponse(a.payload())))
        .on(MaintainerCloseRequest.class, Rule.CLOSE, this::close, this::closeRejected)
        .build(fences::current, done());
  }

  /** Whether {@link #handle} acts on this message type. */
  public boolean handles(Message payload) {
    return inbox.handles(payload);
  }

  /** {@link #handle(Inbound)} of {@code payload} from {@code from}, its fencing token read from it. */
  public Future<Void> handle(NodeId from, Message payload) {
    return handle(Inbound.of(from, payload));
  }

  /**
   * Queues one request on its changefeed's lane, where the inbox admits it (against the fence the previous one
   * left) before its handler runs. The future completes when the request has been dealt with (acted on,
   * answered, or dropped and counted); it never fails.
   */
  public Future<Void> handle(Inbound in) {
    if (!inbox.handles(in.payload())) {
      notices.report(null, Notice.warn(in.type(), "unsupported_type", "not a dispatcher-side request, from " + in.from()));
      return done();
    }
    String raw = in.fence().getChangefeedId();
    if (!ChangefeedId.isValid(raw)) {
      String shown = raw.length() > 64 ? raw.substring(0, 64) + "..." : raw;
      notices.report(null, Notice.warn(in.type(), "invalid_changefeed_id", "from " + in.from() + ": changefeed id '" + shown + "'"));
      return done();
    }
    ChangefeedId cf = ChangefeedId.of(raw);
    return lanes.submit(cf, () -> inbox.deliver(in)).recover(err -> {
      String reason = err instanceof KeyedSerialExecutor.LaneFullException ? "queue_full" : "handler_failed";
      notices.report(cf, Notice.warn(in.type(), reason, String.valueOf(err)));
      LOG.debug("request failed", err);
      return done();
    });
  }

  /**
   * The node lost its metastore session: every write path stops now, and nothing is created again.
   * Closes still get answered, so maintainers see the managers go.
   */
  public void selfFence() {
    if (selfFenced) {
      return;
    }
    selfFenced = true;
    LOG.warn("event=self_fence node={} managers={} action=stop_write_paths", self, managers.size());
    closeAll();
  }

  /**
   * Reports every dispatcher of the managers opened from now on to {@code lifecycle} (a node's tests and
   * metrics install it before any changefeed arrives). Call on the orchestrator's context.
   */
  public void observeDispatchers(DispatcherLifecycle lifecycle) {
    this.lifecycle = lifecycle;
  }

  /** Closes every manager (node shutdown); completes when all have closed. */
  public Future<Void> closeAll() {
    List<Future<Void>> closing = new ArrayList<>();
    managers.values().forEach(m -> closing.add(m.close()));
    return Future.join(closing).mapEmpty();
  }

  // ---- per request type ----

  private Future<Void> bootstrap(FencedInbox.Admitted<MaintainerBootstrapRequest> admitted) {
    ChangefeedId cf = admitted.changefeed();
    NodeId from = admitted.from();
    MaintainerBootstrapRequest request = admitted.payload();
    Fence.Decision decision = admitted.decision();
    String type = ControlPayloads.typeOf(request);
    if (refusedAfterSelfFence(cf, type)) {
      return done();
    }
    ManagerRuntime runtime = managers.get(cf);
    if (runtime != null && runtime.closing()) {
      if (!runtime.closeFinished()) {
        // The previous ownership's writers may still be writing; the bootstrap is resent until they are gone.
        notices.report(cf, Notice.info(type, "manager_closing", "bootstrap at epoch " + Epochs.format(request.getEpoch())
            + " waits: the previous manager is still closing"));
        return done();
      }
      managers.remove(cf);
      runtime = null;
    }
    fences.keep(cf, decision);
    if (decision.admission() == Admission.TAKEOVER) {
      LOG.info("event=changefeed_owner changefeed={} owner={} epoch={} manager={}", cf, from, Epochs.format(request.getEpoch()),
          runtime == null ? "new" : "reused");
    }
    if (runtime != null) {
      runtime.bootstrap(from, request.getEpoch(), request);
      return done();
    }
    return openManager(cf, request).transform(ar -> {
      if (ar.failed()) {
        String reason = SinkUris.redact(String.valueOf(ar.cause().getMessage()));
        notices.report(cf, Notice.warn(type, "manager_open_failed", reason));
        outbox.send(from, Role.MAINTAINER_MANAGER, MaintainerBootstrapResponse.newBuilder().setChangefeedId(cf.value())
            .setEpoch(request.getEpoch()).setError(error("manager_open_failed", reason)).build());
        return done();
      }
      ManagerRuntime opened = ar.result();
      if (selfFenced) {
        opened.close();
        return done();
      }
      managers.put(cf, opened);
      opened.bootstrap(from, request.getEpoch(), request);
      return done();
    });
  }

  /** Post-bootstrap, schedule, merge and heartbeat response, admitted from the exact current owner. */
  private <M extends Message> Future<Void> control(FencedInbox.Admitted<M> admitted, Consumer<ManagerRuntime> action) {
    ChangefeedId cf = admitted.changefeed();
    String type = ControlPayloads.typeOf(admitted.payload());
    if (refusedAfterSelfFence(cf, type)) {
      return done();
    }
    ManagerRuntime runtime = managers.get(cf);
    if (runtime == null || runtime.closing()) {
      notices.report(cf, Notice.info(type, "no_manager", "no open dispatcher manager for the owner's request"));
      return done();
    }
    action.accept(runtime);
    return done();
  }

  /**
   * The first accepted close starts closing and answers "not yet"; a later one answers success once
   * closing has finished, and drops the manager. The fence keeps the tombstone either way.
   */
  private Future<Void> close(FencedInbox.Admitted<MaintainerCloseRequest> admitted) {
    ChangefeedId cf = admitted.changefeed();
    NodeId from = admitted.from();
    MaintainerCloseRequest request = admitted.payload();
    String type = ControlPayloads.typeOf(request);
    fences.keep(cf, admitted.decision());
    ManagerRuntime runtime = managers.get(cf);
    boolean finished;
    if (runtime == null) {
      finished = true;
    } else if (!runtime.closing()) {
      LOG.info("event=manager_closing changefeed={} epoch={} removed={}", cf, Epochs.format(request.getEpoch()), request.getRemoved());
      runtime.close().onComplete(ar -> {
        if (ar.failed()) {
          notices.report(cf, Notice.warn(type, "close_failed", "closing the manager failed: " + SinkUris.redact(String.valueOf(ar.cause()))));
        }
      });
      finished = false;
    } else if (runtime.closeFinished()) {
      managers.remove(cf);
      LOG.info("event=manager_closed changefeed={} epoch={}", cf, Epochs.format(request.getEpoch()));
      finished = true;
    } else {
      finished = false;
    }
    outbox.send(from, Role.MAINTAINER_MANAGER, closeResponse(cf, finished, fences.current(cf).epoch()));
    return done();
  }

  /**
   * A close the fence refused: an older ownership asking (stale epoch, or epoch 0 after epochs began) is
   * acknowledged with its own epoch, so it accepts the reply and stops retrying; the newer owner's manager is
   * left alone.
   */
  private Future<Void> closeRejected(FencedInbox.Rejected<MaintainerCloseRequest> rejected) {
    if (rejected.admission() == Admission.STALE_EPOCH || rejected.admission() == Admission.COMPAT_ENDED) {
      outbox.send(rejected.from(), Role.MAINTAINER_MANAGER, closeResponse(rejected.changefeed(), true, rejected.epoch()));
    }
    return done();
  }

  // ---- helpers ----

  private Future<ManagerRuntime> openManager(ChangefeedId cf, MaintainerBootstrapRequest request) {
    ChangefeedInfo info;
    try {
      info = ChangefeedInfo.parseFrom(request.getConfig());
    } catch (InvalidProtocolBufferException e) {
      return Future.failedFuture(new IllegalArgumentException("bootstrap config is not a ChangefeedInfo: " + e.getMessage()));
    }
    String sourceUri = info.getSourceUri().isBlank() ? DEFAULT_SOURCE : info.getSourceUri();
    DataLane.Tenant tenant = dataPlane.join(cf);
    DataLane lane = tenant.lane();
    Future<Source> opened;
    try {
      opened = endpoints.openSource(sourceUri, lane.endpointContext().forChangefeed(cf.value()).withCheckpoints(checkpoints));
    } catch (RuntimeException e) {
      // A provider that throws is the lane's to report (handler_failed); the changefeed leaves the lane.
      lane.execute(tenant::close);
      throw e;
    }
    return opened
        .compose(source -> endpoints.openSink(info.getSinkUri(), lane.endpointContext().forChangefeed(cf.value()).withSchemas(source))
            .recover(err -> source.close().transform(ignored -> Future.failedFuture(err)))
            .map(sink -> {
              LOG.info("event=manager_created changefeed={} source={} sink={} lane={}", cf, SinkUris.redact(sourceUri),
                  SinkUris.redact(info.getSinkUri()), lane.index());
              return new ManagerRuntime(new DispatcherManager(cf, self, scheduler::nowMillis), source, sink, tenant, scheduler, outbox,
                  notices, lifecycle, heartbeatInterval);
            }))
        .onFailure(err -> lane.execute(tenant::close));
  }

  private boolean refusedAfterSelfFence(ChangefeedId cf, String type) {
    if (selfFenced) {
      notices.report(cf, Notice.info(type, "self_fenced", "the node lost its metastore session; nothing is created or scheduled"));
    }
    return selfFenced;
  }

  private MaintainerCloseResponse closeResponse(ChangefeedId cf, boolean success, long epoch) {
    return MaintainerCloseResponse.newBuilder().setChangefeedId(cf.value()).setSuccess(success).setEpoch(epoch).build();
  }

  private RunningError error(String code, String message) {
    return RunningError.newBuilder().setNodeId(self.value()).setCode(code).setMessage(message).setTimeMs(scheduler.nowMillis()).build();
  }

  private static Future<Void> done() {
    return Future.succeededFuture();
  }

  // ---- read-only views, for the node's admin surface and tests ----

  public Fence fence(ChangefeedId cf) {
    return fences.current(cf);
  }

  /** Every changefeed's fence (or tombstone) on this node. */
  public Map<ChangefeedId, Fence> fences() {
    return fences.all();
  }

  /** The changefeed's manager here, or null. */
  public ManagerRuntime manager(ChangefeedId cf) {
    return managers.get(cf);
  }

  /**
   * The dispatchers that are Working and may write now, per changefeed: those of managers that are neither
   * closing nor fenced off by a lost session, redo dispatchers left out (they write the redo log, not the
   * sink). The node's share of "all Working" and of "one writer per span".
   */
  public Map<ChangefeedId, List<DispatcherSnapshot>> workingDispatchers() {
    Map<ChangefeedId, List<DispatcherSnapshot>> working = new HashMap<>();
    managers.forEach((cf, m) -> {
      if (!m.closing() && !m.manager().writePathStopped()) {
        List<DispatcherSnapshot> list = m.manager().dispatcherSnapshots().stream()
            .filter(d -> !d.getRedo() && d.getState() == ComponentState.COMPONENT_STATE_WORKING).toList();
        if (!list.isEmpty()) {
          working.put(cf, list);
        }
      }
    });
    return working;
  }

  /** The size of {@link #workingDispatchers()}, counted without building a snapshot of every dispatcher. */
  public long workingDispatcherCount() {
    long count = 0;
    for (ManagerRuntime m : managers.values()) {
      if (!m.closing() && !m.manager().writePathStopped()) {
        count += m.manager().workingWriterCount();
      }
    }
    return count;
  }

  public int managerCount() {
    return managers.size();
  }

  /** Dispatchers of every manager not closing: what this node runs now. */
  public int dispatcherCount() {
    return managers.values().stream().filter(m -> !m.closing()).mapToInt(m -> m.manager().dispatcherCount()).sum();
  }

  /** Changefeeds with a request running or waiting. */
  public int busyChangefeeds() {
    return lanes.activeKeys();
  }

  public int pendingRequests(ChangefeedId cf) {
    return lanes.pending(cf);
  }
}
