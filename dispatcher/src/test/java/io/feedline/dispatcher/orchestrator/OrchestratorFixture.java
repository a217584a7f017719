package io.feedline.dispatcher.orchestrator;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.testing.TestEndpoints;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;

/** An orchestrator on a manual clock, its outbox recorded: the test thread plays the event loop. */
final class OrchestratorFixture {

  static final NodeId SELF = NodeId.of("self");
  static final Duration HEARTBEAT = Duration.ofMillis(200);

  final ManualScheduler scheduler = new ManualScheduler(0);
  final TestEndpoints endpoints = new TestEndpoints();
  final RecordingOutbox outbox = new RecordingOutbox();
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  final DataPlane dataPlane = DataPlane.onScheduler(scheduler, 64L << 20, metrics);
  final DispatcherOrchestrator orchestrator = new DispatcherOrchestrator(SELF, endpoints, dataPlane, scheduler, outbox, metrics, HEARTBEAT);

  /** Delivers a request and runs what became due; returns the request's completion. */
  Future<Void> deliver(NodeId from, Message request) {
    Future<Void> done = orchestrator.handle(from, request);
    scheduler.runDue();
    return done;
  }

  double rejections(String type, String reason) {
    Counter c = metrics.find("feedline.fence.rejections").tag("type", type).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  double allRejections() {
    return metrics.find("feedline.fence.rejections").counters().stream().mapToDouble(Counter::count).sum();
  }

  double notices(String type, String reason) {
    Counter c = metrics.find("feedline.dispatcher.notices").tag("type", type).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  double notices(String type) {
    return metrics.find("feedline.dispatcher.notices").tag("type", type).counters().stream().mapToDouble(Counter::count).sum();
  }

  static ChangefeedId cf(String id) {
    return ChangefeedId.of(id);
  }
}
