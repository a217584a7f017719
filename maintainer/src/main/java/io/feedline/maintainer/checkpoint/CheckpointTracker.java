package io.feedline.maintainer.checkpoint;

import io.feedline.common.id.NodeId;
import java.util.HashSet;
import java.util.Set;

/**
 * The changefeed checkpoint: the minimum over span checkpoints, in-flight operators and pending barrier
 * events, computed only once every node hosting a dispatcher has reported since it was last asked to
 * (a node that has not reported may hold a dispatcher further behind than anything known), and never
 * moved back: a lower candidate (a span re-created from an older checkpoint) leaves it where it is.
 */
public final class CheckpointTracker {

  private final Set<NodeId> reported = new HashSet<>();
  private long checkpointTs;

  public CheckpointTracker(long initialTs) {
    this.checkpointTs = initialTs;
  }

  public long checkpointTs() {
    return checkpointTs;
  }

  /** {@code node} sent a heartbeat. */
  public void reported(NodeId node) {
    reported.add(node);
  }

  /** {@code node} left or was (re)bootstrapped: what it reported before says nothing any more. */
  public void forget(NodeId node) {
    reported.remove(node);
  }

  /**
   * One round: advances to {@code candidate} if every node of {@code hosting} has reported and the
   * candidate is higher. Returns whether it advanced.
   */
  public boolean advance(Set<NodeId> hosting, long candidate) {
    if (!reported.containsAll(hosting) || candidate == Long.MAX_VALUE || Long.compareUnsigned(candidate, checkpointTs) <= 0) {
      return false;
    }
    checkpointTs = candidate;
    return true;
  }
}
