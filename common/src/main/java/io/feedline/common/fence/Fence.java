package io.feedline.common.fence;

import io.feedline.common.id.NodeId;
import io.feedline.common.simulation.ProtocolMutation;
import java.util.Objects;

/**
 * A receiver's ownership view of one changefeed: who owns it, at which epoch, whether that owner
 * predates epochs, and the epoch that last closed it here. Immutable: every check returns a
 * {@link Decision} holding the next fence, which the caller keeps only if it acts on the message.
 *
 * <p>This is the only place epoch rules live (DESIGN §3); receivers never compare epochs themselves.
 */
public record Fence(NodeId owner, long epoch, boolean compatMode, boolean tombstoned, long closedEpoch) {

  /** A changefeed this receiver has never heard of. */
  public static final Fence INITIAL = new Fence(null, Epochs.COMPAT, true, false, Epochs.COMPAT);

  /** The outcome of a check and the fence to keep if the message is acted on. */
  public record Decision(Admission admission, Fence next) {
    public boolean accepted() {
      return admission.accepted();
    }
  }

  /** The fence of the side that owns {@code epoch} itself, used to check replies to its own requests. */
  public static Fence ownedBy(NodeId self, long epoch) {
    return new Fence(self, epoch, epoch == Epochs.COMPAT, false, Epochs.COMPAT);
  }

  public boolean hasOwner() {
    return owner != null;
  }

  /**
   * A maintainer bootstraps this changefeed. A strictly newer epoch takes over; the same epoch is
   * accepted only from the same owner; epoch 0 only in compat mode from the compat owner.
   */
  public Decision admitBootstrap(NodeId from, long senderEpoch) {
    Objects.requireNonNull(from, "from");
    // A late bootstrap of an ownership that was already closed here must not resurrect the manager.
    if (tombstoned && (senderEpoch == Epochs.COMPAT || Epochs.compare(senderEpoch, closedEpoch) <= 0)) {
      return reject(Admission.CLOSED);
    }
    if (senderEpoch == Epochs.COMPAT) {
      if (!compatMode) {
        return reject(Admission.COMPAT_ENDED);
      }
      if (owner == null) {
        return new Decision(Admission.TAKEOVER, new Fence(from, Epochs.COMPAT, true, tombstoned, closedEpoch));
      }
      return owner.equals(from) ? accept() : reject(Admission.WRONG_OWNER);
    }
    int cmp = Epochs.compare(senderEpoch, epoch);
    if (cmp > 0) {
      return new Decision(Admission.TAKEOVER, new Fence(from, senderEpoch, false, tombstoned, closedEpoch));
    }
    if (cmp < 0) {
      return reject(Admission.STALE_EPOCH);
    }
    return from.equals(owner) ? accept() : reject(Admission.WRONG_OWNER);
  }

  /**
   * Schedule, merge, post-bootstrap and heartbeat-response: only the exact current owner at the
   * current epoch; a delayed request from a previous owner must not create or remove dispatchers.
   */
  public Decision admitControl(NodeId from, long senderEpoch) {
    Objects.requireNonNull(from, "from");
    if (owner == null) {
      return reject(tombstoned ? Admission.CLOSED : Admission.NOT_BOOTSTRAPPED);
    }
    if (senderEpoch == Epochs.COMPAT && !compatMode) {
      return reject(Admission.COMPAT_ENDED);
    }
    int cmp = Epochs.compare(senderEpoch, epoch);
    if (cmp < 0) {
      return reject(Admission.STALE_EPOCH);
    }
    if (cmp > 0) {
      return reject(Admission.NOT_BOOTSTRAPPED);
    }
    return owner.equals(from) ? accept() : reject(Admission.WRONG_OWNER);
  }

  /**
   * Close: from the exact owner, or from any strictly newer epoch (a newer ownership decision, such as a
   * remove-only maintainer after the owner's node died; closing only removes writers). Accepting records
   * the tombstone and clears the owner.
   */
  public Decision admitClose(NodeId from, long senderEpoch) {
    Objects.requireNonNull(from, "from");
    if (senderEpoch == Epochs.COMPAT && !compatMode) {
      return reject(Admission.COMPAT_ENDED);
    }
    int cmp = Epochs.compare(senderEpoch, epoch);
    if (cmp < 0 && ProtocolMutation.ACCEPT_STALE_CLOSE.on()) {
      // The simulator's deliberate bug: an older owner's close closes the current one.
      return new Decision(Admission.ACCEPT, new Fence(null, epoch, false, true, epoch));
    }
    if (cmp < 0) {
      return reject(Admission.STALE_EPOCH);
    }
    if (cmp == 0 && owner != null && !owner.equals(from)) {
      return reject(Admission.WRONG_OWNER);
    }
    if (tombstoned && owner == null && cmp == 0) {
      // Already closed by this epoch: idempotent, nothing left to close.
      return accept();
    }
    boolean stillCompat = compatMode && senderEpoch == Epochs.COMPAT;
    Admission admission = cmp > 0 ? Admission.TAKEOVER : Admission.ACCEPT;
    return new Decision(admission, new Fence(null, senderEpoch, stillCompat, true, senderEpoch));
  }

  /**
   * A reply to a request this side sent at {@link #epoch()} (bootstrap, post-bootstrap and close
   * responses, heartbeats reporting the fenced epoch): only replies for exactly this epoch count.
   */
  public Decision admitReply(long replyEpoch) {
    if (replyEpoch == epoch) {
      return accept();
    }
    // A reply from a newer epoch means a newer owner exists; either way it is not ours to act on.
    return reject(Epochs.isNewer(replyEpoch, epoch) ? Admission.WRONG_OWNER : Admission.STALE_EPOCH);
  }

  private Decision accept() {
    return new Decision(Admission.ACCEPT, this);
  }

  private Decision reject(Admission admission) {
    return new Decision(admission, this);
  }

  @Override
  public String toString() {
    return "Fence{owner=" + owner + ", epoch=" + Epochs.format(epoch) + ", compat=" + compatMode
        + (tombstoned ? ", closedEpoch=" + Epochs.format(closedEpoch) : "") + '}';
  }
}
