package io.feedline.coordinator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.time.Scheduler;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.coordinator.control.CoordinatorControl;
import io.feedline.coordinator.control.CoordinatorEffects;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of one coordinator term: performs what its {@link CoordinatorControl} decides (sends messages,
 * calls the registry, asks the timestamp oracle) and feeds every outcome back to it as an input, on the
 * coordinator's context; admin requests become futures answered by the control's replies. All decisions are
 * the control's; this class only does I/O. Once {@link #stop}ped, outcomes still coming back are dropped and
 * the admin requests still waiting fail, so a deposed term changes nothing any more.
 */
public final class Coordinator {

  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

  private final CoordinatorControl control;
  private final ChangefeedStore store;
  private final Supplier<Future<Long>> timestamps;
  private final Consumer<Outbound> outbox;
  private final Map<Long, Promise<Object>> waiting = new HashMap<>();
  private final ArrayDeque<Supplier<CoordinatorEffects>> inputs = new ArrayDeque<>();
  private boolean performing;
  private long lastRequest;
  private boolean stopped;

  public Coordinator(NodeId self, long electionVersion, ChangefeedStore store, Supplier<Future<Long>> timestamps,
      Consumer<Outbound> outbox, Scheduler clock, CoordinatorSettings settings, MeterRegistry metrics) {
    this.control = new CoordinatorControl(self, electionVersion, clock, settings, metrics);
    this.store = store;
    this.timestamps = timestamps;
    this.outbox = outbox;
  }

  /** The state machine, for reads (gauges) on this context; inputs go through this runtime. */
  CoordinatorControl control() {
    return control;
  }

  public long electionVersion() {
    return control.electionVersion();
  }

  /** Begins the term with the nodes live now, loads the registry, and then asks every live node for its maintainers. */
  public Future<Void> start(Set<NodeId> liveNodes) {
    input(() -> control.start(liveNodes));
    return store.loadAll().map(records -> {
      input(() -> control.onLoaded(records));
      return null;
    });
  }

  /** The term ended: nothing this coordinator started changes anything any more. */
  public void stop() {
    stopped = true;
    control.stop();
    inputs.clear();
    List<Promise<Object>> unanswered = List.copyOf(waiting.values());
    waiting.clear();
    unanswered.forEach(p -> p.tryFail(new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE,
        "the coordinator stepped down before answering; retry")));
  }

  public void onInbound(Inbound in) {
    input(() -> control.onMessage(in.from(), in.payload()));
  }

  public void onNodeJoined(NodeId node) {
    input(() -> control.onNodeJoined(node));
  }

  public void onNodeLeft(NodeId node) {
    input(() -> control.onNodeLeft(node));
  }

  public void tick() {
    input(control::tick);
  }

  /**
   * Applies one input and performs its effects, then the inputs those caused, one at a time: an outcome that
   * is already there (the oracle answers from its window at once) is queued, not applied in the middle of
   * performing the effects of the input that asked for it, so effects go out in the order they were decided.
   */
  private void input(Supplier<CoordinatorEffects> step) {
    if (stopped) {
      return;
    }
    inputs.add(step);
    if (performing) {
      return;
    }
    performing = true;
    try {
      Supplier<CoordinatorEffects> next;
      while (!stopped && (next = inputs.poll()) != null) {
        try {
          perform(next.get());
        } catch (RuntimeException e) {
          // A bug in one decision must not take the inputs queued behind it down with it.
          LOG.error("event=coordinator_effects_failed election_version={} error=\"{}\"", control.electionVersion(), e.toString(), e);
        }
      }
    } finally {
      performing = false;
    }
  }

  private void perform(CoordinatorEffects effects) {
    effects.messages().forEach(outbox);
    for (long id : effects.timestampRequests()) {
      timestamps.get().onComplete(ar -> input(() -> control.onTimestamp(id, ar.succeeded() ? ar.result() : 0, ar.cause())));
    }
    for (CoordinatorEffects.RegistryCall call : effects.registryCalls()) {
      store.perform(call.op()).onComplete(ar -> input(() -> control.onRegistryResult(call.id(),
          ar.succeeded() ? ar.result() : new RegistryResult.Failed(ar.cause()))));
    }
    for (CoordinatorEffects.AdminReply reply : effects.replies()) {
      Promise<Object> p = waiting.remove(reply.request());
      if (p != null) {
        if (reply.error() != null) {
          p.tryFail(reply.error());
        } else {
          p.tryComplete(reply.value());
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private <T> Future<T> request(LongFunction<CoordinatorEffects> call) {
    if (stopped) {
      return Future.failedFuture(new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE, "the coordinator stepped down; retry"));
    }
    long id = ++lastRequest;
    Promise<Object> answer = Promise.promise();
    waiting.put(id, answer);
    input(() -> {
      try {
        return call.apply(id);
      } catch (RuntimeException e) {
        waiting.remove(id);
        answer.tryFail(e);
        return CoordinatorEffects.NONE;
      }
    });
    return (Future<T>) answer.future();
  }

  // ---- admin operations -------------------------------------------------------------------------------

  /** Creates a changefeed; it is placed by the next scheduling round. {@code startTs} 0 = now. */
  public Future<ChangefeedRecord> create(ChangefeedInfo requested) {
    return request(id -> control.create(id, requested));
  }

  /** Pauses: stopped + stopping persisted together, then the maintainer is removed (cascading). */
  public Future<ChangefeedRecord> pause(ChangefeedId changefeed) {
    return request(id -> control.pause(id, changefeed));
  }

  /** Resumes a stopped, failed or warning changefeed: normal, error cleared, epoch bumped, in one transaction. */
  public Future<ChangefeedRecord> resume(ChangefeedId changefeed, long overwriteCheckpointTs) {
    return request(id -> control.resume(id, changefeed, overwriteCheckpointTs));
  }

  /** Removes: removing persisted, maintainer removed with cascade, then both records deleted. */
  public Future<ChangefeedRecord> remove(ChangefeedId changefeed) {
    return request(id -> control.remove(id, changefeed));
  }

  /** Changes the sink, target or options of a stopped changefeed. */
  public Future<ChangefeedRecord> update(ChangefeedId changefeed, Function<ChangefeedInfo, ChangefeedInfo> change) {
    return request(id -> control.update(id, changefeed, change::apply));
  }

  /** Moves a running changefeed's maintainer to {@code dest}. */
  public Future<Void> moveMaintainer(ChangefeedId changefeed, NodeId dest) {
    return request(id -> control.moveMaintainer(id, changefeed, dest));
  }

  /**
   * Starts draining {@code node} if it is not being drained yet, and answers how much is left; callable
   * repeatedly. Refused for an unknown node, the last live node, or while another node is drained.
   */
  public Future<DrainReply> drain(NodeId node) {
    return request(id -> control.drain(id, node));
  }

  // ---- reads ------------------------------------------------------------------------------------------

  public Optional<ChangefeedRecord> query(ChangefeedId id) {
    return control.query(id);
  }

  /** What the changefeed's maintainer last said holds its checkpoint back and where its source has got to. */
  public CheckpointReport checkpointReport(ChangefeedId id) {
    return control.checkpointReport(id);
  }

  public List<ChangefeedRecord> list() {
    return control.list();
  }

  /** For every node that hosts maintainers: when its maintainer manager last sent a heartbeat. */
  public Map<NodeId, Long> lastHeartbeats() {
    return control.lastHeartbeats();
  }

  /** The node of each changefeed's adopted maintainer (absent ones left out). */
  public Map<ChangefeedId, NodeId> maintainers() {
    return control.maintainers();
  }

  public boolean bootstrapped() {
    return control.bootstrapped();
  }

  public int operatorCount() {
    return control.operatorCount();
  }

  /** The drain under way, and what is left of it. */
  public Optional<Map.Entry<NodeId, Long>> drainStatus() {
    return control.drainStatus();
  }

  /** Every live node as it last reported itself, with the liveness the coordinator shows for it. */
  public Map<NodeId, DrainController.NodeReport> nodeReports() {
    return control.nodeReports();
  }
}
