package io.feedline.common.node;

import io.feedline.proto.NodeLiveness;
import java.util.Locale;

/**
 * Where a node stands, as {@code node list} and {@code /health} show it: {@code starting} (registered, which its
 * roles need, but its admin API not answering yet), {@code ready}, {@code draining} (its work moving off it),
 * {@code stopping} (it holds nothing and is leaving).
 */
public enum NodeState {
  STARTING,
  READY,
  DRAINING,
  STOPPING;

  /** A node's state from whether it serves its admin API yet and its liveness; leaving beats starting. */
  public static NodeState of(boolean serving, NodeLiveness liveness) {
    return switch (liveness) {
      case NODE_LIVENESS_DRAINING -> DRAINING;
      case NODE_LIVENESS_STOPPING -> STOPPING;
      default -> serving ? READY : STARTING;
    };
  }

  /** {@code starting}, {@code ready}...: as the CLI, the JSON and {@code /health} spell it. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
