package io.feedline.simulation;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.ManualScheduler;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The control bus between simulated nodes: an in-memory router over the simulator's clock. Each link (sender to
 * receiver) delivers in order after a small seeded latency, as the event bus's one connection per pair does. While
 * faults are on it also drops, duplicates, delays (which reorders: a delayed message is passed by later ones) and
 * partitions pairs of nodes; a node's messages to itself are never lost. A message to a node incarnation that is gone
 * is dropped, as the bus drops one for an unregistered address.
 */
final class SimNetwork {

  /** Probabilities of the message faults while faults are on. */
  record Faults(double drop, double duplicate, double delay, long maxDelayMillis) {
    static final Faults NONE = new Faults(0, 0, 0, 0);
  }

  private final ManualScheduler clock;
  private final Random random;
  private final Stats stats;
  private final History history;
  private final long origin;
  private final Map<NodeId, BiConsumer<Role, Inbound>> receivers = new HashMap<>();
  private final Map<NodeId, String> slots = new HashMap<>();
  private final Set<String> cut = new HashSet<>();
  /** When the last in-order message on each link arrives: later ones never pass it. */
  private final Map<String, Long> linkTail = new HashMap<>();
  private Faults faults = Faults.NONE;
  /** Told of every message as it is delivered, before its receiver sees it. */
  private final BiConsumer<NodeId, Inbound> observer;

  SimNetwork(ManualScheduler clock, Random random, Stats stats, History history, BiConsumer<NodeId, Inbound> observer) {
    this.observer = observer;
    this.clock = clock;
    this.random = random;
    this.stats = stats;
    this.history = history;
    this.origin = clock.nowMillis();
  }

  /** A node incarnation joins the bus under {@code slot} (its place in the cluster, which partitions are drawn between). */
  void attach(NodeId node, String slot, BiConsumer<Role, Inbound> receiver) {
    receivers.put(node, receiver);
    slots.put(node, slot);
  }

  void detach(NodeId node) {
    receivers.remove(node);
  }

  Outbox outboxOf(NodeId from) {
    return (to, role, payload) -> send(from, to, role, payload);
  }

  void faults(Faults faults) {
    this.faults = faults;
  }

  void partition(String a, String b) {
    cut.add(pair(a, b));
  }

  void heal(String a, String b) {
    cut.remove(pair(a, b));
  }

  void healAll() {
    cut.clear();
  }

  private boolean cut(NodeId from, NodeId to) {
    String a = slots.get(from);
    String b = slots.get(to);
    return a != null && b != null && cut.contains(pair(a, b));
  }

  private static String pair(String a, String b) {
    return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
  }

  private void send(NodeId from, NodeId to, Role role, Message payload) {
    stats.messages++;
    boolean local = from.equals(to);
    if (!local) {
      if (cut(from, to)) {
        stats.partitionDrops++;
        return;
      }
      if (random.nextDouble() < faults.drop()) {
        stats.count("drop");
        return;
      }
    }
    long at = arrival(from, to, !local && random.nextDouble() < faults.delay());
    schedule(from, to, role, payload, at);
    if (!local && random.nextDouble() < faults.duplicate()) {
      stats.count("duplicate");
      schedule(from, to, role, payload, arrival(from, to, random.nextDouble() < 0.5));
    }
  }

  private long arrival(NodeId from, NodeId to, boolean delayed) {
    long now = clock.nowMillis();
    if (delayed) {
      stats.count("delay");
      return now + 1 + (long) (random.nextDouble() * faults.maxDelayMillis());
    }
    String link = from.value() + ">" + to.value();
    long at = Math.max(now + (from.equals(to) ? 0 : 1 + random.nextInt(3)), linkTail.getOrDefault(link, 0L));
    linkTail.put(link, at);
    return at;
  }

  private void schedule(NodeId from, NodeId to, Role role, Message payload, long at) {
    clock.schedule(at - clock.nowMillis(), () -> deliver(from, to, role, payload));
  }

  private void deliver(NodeId from, NodeId to, Role role, Message payload) {
    BiConsumer<Role, Inbound> receiver = receivers.get(to);
    if (receiver == null) {
      return; // that incarnation is gone
    }
    if (!from.equals(to) && cut(from, to)) {
      stats.partitionDrops++;
      return; // the partition formed while the message was on its way
    }
    Inbound in = Inbound.of(from, payload);
    history.record(clock.nowMillis() - origin, "deliver " + from.value() + ">" + to.value() + " " + in.type() + " "
        + in.fence().getChangefeedId() + "@" + in.fence().getEpoch());
    stats.delivered++;
    observer.accept(to, in);
    receiver.accept(role, in);
  }
}
