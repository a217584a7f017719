package io.feedline.maintainer.changefeed;

import com.google.protobuf.Message;
import io.feedline.maintainer.DispatcherReplies;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbound;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One {@link ChangefeedMaintainer} on node A of nodes A, B, C with a {@link FakeDispatcherSide}: the
 * test thread plays the clock and the wire. {@link #round()} is one maintainer tick whose messages are
 * delivered and answered, followed by a heartbeat from every live node.
 */
final class MaintainerHarness {

  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final NodeId C = NodeId.of("c");
  static final long EPOCH = 7;
  static final long RESEND = 500;
  static final long TICK = 100;

  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final DispatcherReplies replies = new DispatcherReplies(A, metrics);
  final FakeDispatcherSide side;
  final Set<NodeId> live = new LinkedHashSet<>();
  final List<Outbound> sent = new ArrayList<>();
  ChangefeedMaintainer maintainer;
  long now = 1_000;

  MaintainerHarness(long checkpointTs, int batchSize, NodeId... nodes) {
    side = new FakeDispatcherSide(nodes);
    live.addAll(List.of(nodes));
    maintainer = newMaintainer(A, EPOCH, checkpointTs, batchSize, 42);
  }

  static MaintainerHarness threeNodes(long checkpointTs) {
    return new MaintainerHarness(checkpointTs, 10_000, A, B, C);
  }

  ChangefeedMaintainer newMaintainer(NodeId self, long epoch, long checkpointTs, int batchSize, long seed) {
    return new ChangefeedMaintainer(config(self, epoch, checkpointTs, batchSize, seed, metrics));
  }

  /** The configuration of changefeed cf1's maintainer on {@code self}. */
  static MaintainerConfig config(NodeId self, long epoch, long checkpointTs, int batchSize, long seed, MeterRegistry metrics) {
    return new MaintainerConfig(self, ChangefeedId.of("cf1"), epoch, ChangefeedInfo.newBuilder().setId("cf1").build(),
        checkpointTs, false, RESEND, 15_000, batchSize, new SplittableRandom(seed), metrics);
  }

  /** A new maintainer of the changefeed on {@code self} at a higher epoch (the old one is simply dropped). */
  void failover(NodeId self, long epoch, long checkpointTs) {
    maintainer = newMaintainer(self, epoch, checkpointTs, 10_000, epoch);
  }

  /** Ticks once and returns what was sent, without delivering it. */
  List<Outbound> tickOnly() {
    now += TICK;
    List<Outbound> out = maintainer.tick(now, Set.copyOf(live)).messages();
    sent.addAll(out);
    return out;
  }

  /** Delivers {@code messages} to the fake dispatcher side and its answers back. */
  void deliver(List<Outbound> messages) {
    for (Outbound o : messages) {
      if (!live.contains(o.to())) {
        continue;
      }
      Message answer = side.answer(o.to(), o.payload());
      if (answer != null) {
        receive(o.to(), answer);
      }
    }
  }

  /** Delivers {@code m} through the door the maintainer manager puts before every maintainer. */
  void receive(NodeId from, Message m) {
    if (!replies.admit(Inbound.of(from, m), maintainer.changefeedId(), maintainer.epoch())) {
      return;
    }
    List<Outbound> out = maintainer.onMessage(from, m, now).messages();
    sent.addAll(out);
    deliver(out);
  }

  /** Puts the maintainer in removing mode; what it sends then is delivered and answered. */
  List<Outbound> beginRemoving(boolean cascade, boolean removed) {
    List<Outbound> out = maintainer.beginRemoving(now, Set.copyOf(live), cascade, removed).messages();
    sent.addAll(out);
    deliver(out);
    return out;
  }

  void heartbeats() {
    for (NodeId n : List.copyOf(live)) {
      receive(n, side.heartbeat(n, "cf1"));
    }
  }

  /** One tick, its messages delivered and answered, then a heartbeat from every live node. */
  List<Outbound> round() {
    List<Outbound> out = tickOnly();
    deliver(out);
    heartbeats();
    return out;
  }

  /** Rounds (dispatchers starting in between) until the maintainer is working with nothing in flight. */
  void settle() {
    for (int i = 0; i < 200; i++) {
      round();
      side.startAll();
      if (maintainer.working() && maintainer.operators().size() == 0 && maintainer.spans().absent().isEmpty()) {
        round();
        return;
      }
    }
    throw new AssertionError("not settled: " + maintainer.operators().describe() + " absent=" + maintainer.spans().absentList());
  }

  void crash(NodeId node) {
    live.remove(node);
    side.nodes.remove(node);
  }

  <T extends Message> List<T> sentOf(Class<T> type) {
    return sent.stream().map(Outbound::payload).filter(type::isInstance).map(type::cast).toList();
  }

  <T extends Message> List<Outbound> sentTo(NodeId node, Class<T> type) {
    return sent.stream().filter(o -> o.to().equals(node) && type.isInstance(o.payload())).toList();
  }

  double rejections(String reason) {
    return metrics.find("feedline.fence.rejections").tag("reason", reason).counters().stream().mapToDouble(Counter::count).sum();
  }
}
