package io.feedline.common.messaging;

import io.feedline.common.id.NodeId;
import io.feedline.proto.ControlEnvelope;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A seeded {@link MessageInterceptor} built from rules that match by message type and node pair. The
 * first matching rule whose dice roll hits decides; no match delivers. Rules may be added and removed
 * while messages flow (they are read on event loops, changed from a test thread).
 */
public final class FaultRules implements MessageInterceptor {

  /** What a matching rule does. */
  public enum Action {
    DROP,
    DELAY,
    DUPLICATE,
    /** Random delay in [0, millis]: messages overtake each other. */
    REORDER
  }

  /**
   * One rule. Null {@code from}/{@code to} and an empty {@code types} set match anything.
   *
   * @param millis the delay for DELAY, the window for REORDER, the spacing for DUPLICATE
   */
  public record Rule(Set<String> types, NodeId from, NodeId to, Action action, double probability, long millis) {
    public Rule {
      types = Set.copyOf(types);
      if (probability < 0 || probability > 1) {
        throw new IllegalArgumentException("probability must be within [0, 1]: " + probability);
      }
    }

    boolean matches(Route route, String type) {
      return (types.isEmpty() || types.contains(type))
          && (from == null || from.equals(route.from()))
          && (to == null || to.equals(route.to()));
    }
  }

  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final Random random;
  private final long seed;

  public FaultRules(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
  }

  public long seed() {
    return seed;
  }

  public FaultRules add(Rule rule) {
    rules.add(rule);
    return this;
  }

  /** Drops every message of the given types (all types when none given) from {@code from} to {@code to}. */
  public Rule drop(NodeId from, NodeId to, String... types) {
    Rule rule = new Rule(Set.of(types), from, to, Action.DROP, 1.0, 0);
    add(rule);
    return rule;
  }

  /** Cuts both directions between two nodes. Returns the two rules so the partition can be healed. */
  public List<Rule> partition(NodeId a, NodeId b) {
    return List.of(drop(a, b), drop(b, a));
  }

  /** Cuts {@code node} off from every other node, both directions, as a crash does. */
  public List<Rule> isolate(NodeId node) {
    return List.of(drop(node, null), drop(null, node));
  }

  public void remove(Rule rule) {
    rules.remove(rule);
  }

  public void removeAll(List<Rule> toRemove) {
    rules.removeAll(toRemove);
  }

  /** Removes every rule: all messages flow again. */
  public void heal() {
    rules.clear();
  }

  @Override
  public Verdict intercept(Route route, String type, ControlEnvelope envelope) {
    for (Rule rule : rules) {
      if (!rule.matches(route, type) || !roll(rule.probability())) {
        continue;
      }
      return switch (rule.action()) {
        case DROP -> Verdict.DROP;
        case DELAY -> new Verdict.Delay(rule.millis());
        case DUPLICATE -> new Verdict.Duplicate(1, rule.millis());
        case REORDER -> new Verdict.Delay(nextLong(rule.millis() + 1));
      };
    }
    return Verdict.DELIVER;
  }

  private boolean roll(double probability) {
    if (probability >= 1.0) {
      return true;
    }
    synchronized (random) {
      return random.nextDouble() < probability;
    }
  }

  private long nextLong(long bound) {
    synchronized (random) {
      return (long) (random.nextDouble() * bound);
    }
  }
}
