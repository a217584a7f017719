package io.feedline.common.drain;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.NodeId;
import io.feedline.proto.DrainTarget;
import java.util.Optional;

/**
 * The node-level dispatcher drain target (DESIGN §8): the node being drained, or none, and the drain epoch
 * (from the coordinator's timestamp oracle) that set or cleared it. Immutable; {@link #offer} applies the
 * monotonic rules and returns the target to keep.
 *
 * <p>Rules: a higher epoch always wins (set or clear); at the same epoch only set → clear is allowed, so a
 * delayed "set" can never bring back a target that was already cleared, and a lower epoch is always stale.
 */
public record NodeDrainTarget(NodeId node, long epoch) {

  /** No drain was ever seen. */
  public static final NodeDrainTarget NONE = new NodeDrainTarget(null, Epochs.COMPAT);

  /** What {@link #offer} did with an update. */
  public enum Outcome {
    /** The update is newer: it is the target now. */
    APPLIED,
    /** The same target at the same epoch again (a resend). */
    DUPLICATE,
    /** Older than what was applied (a lower epoch, or a set after the clear at the same epoch). */
    STALE;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The outcome of an update and the target to keep. */
  public record Update(Outcome outcome, NodeDrainTarget next) {}

  public static NodeDrainTarget set(NodeId node, long epoch) {
    return new NodeDrainTarget(java.util.Objects.requireNonNull(node, "node"), epoch);
  }

  public static NodeDrainTarget cleared(long epoch) {
    return new NodeDrainTarget(null, epoch);
  }

  /** The wire form; an empty or blank node means "no target". */
  public static NodeDrainTarget of(DrainTarget proto) {
    String node = proto.getTargetNode();
    return new NodeDrainTarget(node.isBlank() ? null : NodeId.of(node), proto.getTargetEpoch());
  }

  public DrainTarget toProto() {
    return DrainTarget.newBuilder().setTargetNode(node == null ? "" : node.value()).setTargetEpoch(epoch).build();
  }

  /** A node is being drained. */
  public boolean active() {
    return node != null;
  }

  public Optional<NodeId> target() {
    return Optional.ofNullable(node);
  }

  public Update offer(NodeDrainTarget incoming) {
    int cmp = Epochs.compare(incoming.epoch, epoch);
    if (cmp > 0) {
      return new Update(Outcome.APPLIED, incoming);
    }
    if (cmp < 0) {
      return new Update(Outcome.STALE, this);
    }
    if (java.util.Objects.equals(node, incoming.node)) {
      return new Update(Outcome.DUPLICATE, this);
    }
    // Same epoch, different value: only the clear of the target set at that epoch moves forward.
    return node != null && incoming.node == null ? new Update(Outcome.APPLIED, incoming) : new Update(Outcome.STALE, this);
  }

  @Override
  public String toString() {
    return (node == null ? "none" : node.value()) + "@" + Epochs.format(epoch);
  }
}
