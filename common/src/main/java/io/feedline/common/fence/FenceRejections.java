package io.feedline.common.fence;

import com.google.protobuf.Descriptors.Descriptor;
import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every receiver reports a message its {@link Fence} rejected: one counter
 * ({@code feedline.fence.rejections{role,type,reason}}) counts every drop, and one structured log line
 * with both epochs is written the first time each (changefeed, type, reason, epochs) is seen.
 *
 * <p>A receiver declares the message types it fences: each of them starts at 0 for every reason a fence can
 * give, so a dashboard or an alert on {@code increase()} sees the series from the first scrape on (Prometheus
 * practice) instead of a series that appears with its first rejection.
 */
public final class FenceRejections {

  private static final Logger LOG = LoggerFactory.getLogger(FenceRejections.class);

  private final String role;
  private final MeterRegistry metrics;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 10_000);

  /** Rejections of {@code role}, which fences messages of {@code fencedTypes} by their changefeed's {@link Fence}. */
  public FenceRejections(String role, MeterRegistry metrics, Collection<Descriptor> fencedTypes) {
    this(role, metrics, fencedTypes, List.of());
  }

  /** Also fences the node reports of {@code reportTypes} by their {@link ReportFence}. */
  public FenceRejections(String role, MeterRegistry metrics, Collection<Descriptor> fencedTypes, Collection<Descriptor> reportTypes) {
    this.role = role;
    this.metrics = metrics;
    // Every row that can occur exists at 0 before the first: an alert on increase() sees the first one too.
    for (Descriptor type : fencedTypes) {
      for (Admission admission : Admission.values()) {
        if (!admission.accepted() && admission != Admission.STALE_SEQUENCE) {
          counter(type.getName(), admission.reason());
        }
      }
    }
    for (Descriptor type : reportTypes) {
      for (Admission admission : List.of(Admission.STALE_EPOCH, Admission.STALE_SEQUENCE, Admission.COMPAT_ENDED)) {
        counter(type.getName(), admission.reason());
      }
    }
  }

  /** Records {@code decision} if it is a rejection. Returns whether the message may be acted on. */
  public boolean check(Fence.Decision decision, String changefeed, String type, NodeId from, long senderEpoch, Fence local) {
    if (decision.accepted()) {
      return true;
    }
    reject(decision.admission(), changefeed, type, from, senderEpoch, local.epoch(), "local_owner=" + local.owner());
    return false;
  }

  /** Records {@code decision} on a node's report if it is a rejection. Returns whether the report may be applied. */
  public boolean check(ReportFence.Decision decision, String type, NodeId from, long senderEpoch, long senderSeq, ReportFence local) {
    if (decision.accepted()) {
      return true;
    }
    reject(decision.admission(), "", type, from, senderEpoch, local.nodeEpoch(), "sender_seq=" + senderSeq + " local_seq=" + local.seq());
    return false;
  }

  private void reject(Admission admission, String changefeed, String type, NodeId from, long senderEpoch, long localEpoch, String detail) {
    String reason = admission.reason();
    counter(type, reason).increment();
    onceLog.warn(List.of(changefeed, type, reason, senderEpoch, localEpoch),
        () -> "event=fence_reject role=" + role + " changefeed=" + changefeed + " type=" + type + " reason=" + reason
            + " from=" + from + " sender_epoch=" + Epochs.format(senderEpoch) + " local_epoch=" + Epochs.format(localEpoch) + " " + detail);
  }

  private Counter counter(String type, String reason) {
    return Meters.counter(metrics, "feedline.fence.rejections", "Control messages a receiver refused by its fence, by role, type and reason",
        "role", role, "type", type, "reason", reason);
  }
}
