package io.feedline.common.fence;

/**
 * A receiver's view of one node's reports (node heartbeats, liveness responses): the newest incarnation
 * (node epoch) and the newest report of it (sequence number) seen. Reports overwrite what the receiver shows,
 * so one that arrives after a newer one must be dropped, or a reordered heartbeat would bring back a liveness
 * or a drain acknowledgement the node has already left behind. Immutable, like {@link Fence}.
 */
public record ReportFence(long nodeEpoch, long seq) {

  /** A node this receiver has had no report from. */
  public static final ReportFence INITIAL = new ReportFence(Epochs.COMPAT, 0);

  /** The outcome of a check and the fence to keep if the report is applied. */
  public record Decision(Admission admission, ReportFence next) {
    public boolean accepted() {
      return admission.accepted();
    }
  }

  /**
   * A newer incarnation takes over (its sequence starts again); within one incarnation only a higher
   * sequence number is newer. Sequence 0 is a sender that predates sequence numbers: taken while no
   * numbered report came from that incarnation, refused after one did.
   */
  public Decision admit(long senderEpoch, long senderSeq) {
    int cmp = Epochs.compare(senderEpoch, nodeEpoch);
    if (cmp < 0) {
      return new Decision(Admission.STALE_EPOCH, this);
    }
    if (cmp > 0) {
      return new Decision(Admission.TAKEOVER, new ReportFence(senderEpoch, senderSeq));
    }
    if (senderSeq == 0) {
      return new Decision(seq == 0 ? Admission.ACCEPT : Admission.COMPAT_ENDED, this);
    }
    return senderSeq > seq ? new Decision(Admission.ACCEPT, new ReportFence(nodeEpoch, senderSeq))
        : new Decision(Admission.STALE_SEQUENCE, this);
  }
}
