package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.proto.MaintainerStatus;
import java.util.List;
import java.util.Optional;

/**
 * One in-flight change of a changefeed's maintainer ownership. Pure state machine: it is fed statuses and
 * node removals, and says which messages to (re)send and when it is done; the controller resends
 * {@link #messages()} every resend interval until then. At most one per changefeed.
 */
public sealed interface MaintainerOperator permits SingleNodeOperator, MoveMaintainer {

  enum Outcome {
    /** The target state was confirmed by the maintainer's node. */
    SUCCEEDED,
    /** The node the maintainer was to run on left; the changefeed has no maintainer. */
    DESTINATION_LOST,
    /** The maintainer refused to start (bad config, checkpoint 0): {@link #error()} says why. */
    REJECTED,
    /** The node to stop the maintainer on left before confirming; a remove-only stop must follow. */
    NODE_LOST
  }

  ChangefeedId changefeed();

  /** The epoch this operator establishes (add, move) or stops (stop). */
  long epoch();

  /** What to send now; empty once finished. */
  List<Outbound> messages();

  /** A maintainer status reported by {@code from}; operators match node and epoch themselves. */
  void onStatus(NodeId from, MaintainerStatus status);

  void onNodeRemoved(NodeId node);

  /** Empty while running. */
  Optional<Outcome> outcome();

  /** For {@link Outcome#REJECTED}: the maintainer's error message. */
  default String error() {
    return "";
  }

  /** The node that runs the maintainer once this operator succeeds, if any. */
  Optional<NodeId> destination();

  /**
   * Whether a maintainer this operator starts or stops may be running on {@code node} until the operator
   * finishes: a drain is not done while one may.
   */
  boolean runsOn(NodeId node);

  /** Shared status matching: a confirmation counts only from the expected node at the expected epoch. */
  static boolean from(NodeId expectedNode, long expectedEpoch, NodeId from, MaintainerStatus status) {
    return status != null && expectedNode.equals(from) && status.getEpoch() == expectedEpoch;
  }

  /** The maintainer the status is about no longer runs (stopped, removed, or not there at all). */
  static boolean stopped(MaintainerStatus status) {
    return switch (status.getState()) {
      case COMPONENT_STATE_STOPPED, COMPONENT_STATE_REMOVED, COMPONENT_STATE_ABSENT -> true;
      default -> false;
    };
  }
}
