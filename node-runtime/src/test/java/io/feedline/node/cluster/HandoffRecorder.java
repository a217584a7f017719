package io.feedline.node.cluster;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlPayloads;
import io.feedline.common.messaging.MessageInterceptor;
import io.feedline.common.messaging.Route;
import io.feedline.common.messaging.Verdict;
import io.feedline.dispatcher.dispatcher.DispatcherSpec;
import io.feedline.dispatcher.manager.DispatcherLifecycle;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.ControlEnvelope;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.OperatorType;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.vertx.core.Future;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records a {@link HandoffEvent} history of an in-JVM cluster: each node's dispatchers through its
 * {@link DispatcherLifecycle} (the exact Working and stopped edges), and what maintainers and the
 * coordinator decide through an outbound interceptor on every node's bus (called in the sender's send, so
 * before anything the message causes). One {@link AtomicLong} numbers them all; nothing is delivered
 * differently. Thread-safe: events arrive on every node's contexts.
 */
final class HandoffRecorder implements MessageInterceptor {

  private final AtomicLong seq = new AtomicLong();
  private final Queue<HandoffEvent> events = new ConcurrentLinkedQueue<>();

  /** Makes {@code node}'s dispatchers report here; call before any changefeed reaches it. */
  void observe(NodeRuntime node) {
    NodeId id = node.nodeId();
    DispatcherLifecycle lifecycle = new DispatcherLifecycle() {
      @Override
      public void working(ChangefeedId changefeed, DispatcherSpec d) {
        if (!d.redo()) {
          events.add(new HandoffEvent.Working(seq.incrementAndGet(), changefeed, id, d.ref(), d.span()));
        }
      }

      @Override
      public void stopped(ChangefeedId changefeed, DispatcherSpec d) {
        if (!d.redo()) {
          events.add(new HandoffEvent.Stopped(seq.incrementAndGet(), changefeed, id, d.ref(), d.span()));
        }
      }
    };
    ClusterProbe.onContext(node.dispatcherRole().context(), () -> {
      node.dispatcherRole().orchestrator().observeDispatchers(lifecycle);
      return Future.succeededFuture();
    });
  }

  @Override
  public Verdict intercept(Route route, String type, ControlEnvelope envelope) {
    switch (type) {
      case "ScheduleDispatcherRequest" -> {
        ScheduleDispatcherRequest r = (ScheduleDispatcherRequest) ControlPayloads.unwrap(envelope);
        for (DispatcherSchedule item : r.getItemsList()) {
          if (item.getOperatorType() == OperatorType.OPERATOR_TYPE_MOVE && !item.getRedo()) {
            events.add(new HandoffEvent.MoveItem(seq.incrementAndGet(), ChangefeedId.of(r.getChangefeedId()), r.getEpoch(), item.getSpan(),
                DispatcherKey.of(item.getId()), item.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE));
          }
        }
      }
      case "RemoveMaintainerRequest" -> {
        RemoveMaintainerRequest r = (RemoveMaintainerRequest) ControlPayloads.unwrap(envelope);
        if (!r.getCascade()) {
          events.add(new HandoffEvent.MaintainerLeaving(seq.incrementAndGet(), ChangefeedId.of(r.getChangefeedId()), r.getEpoch()));
        }
      }
      case "MaintainerBootstrapRequest" -> {
        MaintainerBootstrapRequest r = (MaintainerBootstrapRequest) ControlPayloads.unwrap(envelope);
        if (r.hasTableTriggerEventDispatcherId()) {
          events.add(new HandoffEvent.TriggerNamed(seq.incrementAndGet(), ChangefeedId.of(r.getChangefeedId()), r.getEpoch(),
              DispatcherKey.of(r.getTableTriggerEventDispatcherId())));
        }
      }
      default -> {
        // heartbeats and the rest say nothing about who replicates a span
      }
    }
    return Verdict.DELIVER;
  }

  /** The sequence number of the last event so far: events after it happened later. */
  long mark() {
    return seq.get();
  }

  /** Everything recorded so far (in no particular order; the check sorts by number). */
  List<HandoffEvent> history() {
    return List.copyOf(events);
  }
}
