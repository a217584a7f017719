package io.feedline.common.drain;

import io.feedline.proto.NodeLiveness;

/**
 * A node's liveness (DESIGN §8): ALIVE → DRAINING → STOPPING, forward only, so a delayed or resent
 * command can never bring a stopping node back into placement. Immutable.
 */
public record NodeLivenessState(NodeLiveness liveness) {

  public static final NodeLivenessState ALIVE = new NodeLivenessState(NodeLiveness.NODE_LIVENESS_ALIVE);

  public NodeLivenessState {
    java.util.Objects.requireNonNull(liveness, "liveness");
    if (liveness == NodeLiveness.UNRECOGNIZED) {
      throw new IllegalArgumentException("unknown liveness");
    }
  }

  /**
   * The liveness after a request for {@code target}: {@code target} if it lies ahead, else unchanged (an
   * unknown value from a newer sender changes nothing).
   */
  public NodeLivenessState advanceTo(NodeLiveness target) {
    if (target == null || target == NodeLiveness.UNRECOGNIZED || target.getNumber() <= liveness.getNumber()) {
      return this;
    }
    return new NodeLivenessState(target);
  }

  /** Only an ALIVE node may receive new maintainers or dispatchers. */
  public boolean schedulable() {
    return liveness == NodeLiveness.NODE_LIVENESS_ALIVE;
  }

  public boolean atLeast(NodeLiveness other) {
    return other != NodeLiveness.UNRECOGNIZED && liveness.getNumber() >= other.getNumber();
  }

  /** ALIVE, DRAINING or STOPPING. */
  public String label() {
    return label(liveness);
  }

  public static String label(NodeLiveness liveness) {
    return liveness == NodeLiveness.UNRECOGNIZED ? "UNKNOWN" : liveness.name().substring("NODE_LIVENESS_".length());
  }
}
