package io.feedline.common.fence;

import io.feedline.common.id.NodeId;
import io.feedline.common.log.OncePerKeyLogger;
import io.feedline.common.metrics.Meters;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where every receiver reports a message its {@link Fence} rejected: one counter
 * ({@code feedline.fence.rejections{role,type,reason}}) counts every drop, and one structured log line
 * with both epochs is written the first time each (changefeed, type, reason, epochs) is seen.
 */
public final class FenceRejections {

  private static final Logger LOG = LoggerFactory.getLogger(FenceRejections.class);

  private final String role;
  private final MeterRegistry metrics;
  private final OncePerKeyLogger onceLog = new OncePerKeyLogger(LOG, 10_000);

  public FenceRejections(String role, MeterRegistry metrics) {
    this.role = role;
    this.metrics = metrics;
  }

  /** Records {@code decision} if it is a rejection. Returns whether the message may be acted on. */
  public boolean check(Fence.Decision decision, String changefeed, String type, NodeId from, long senderEpoch, Fence local) {
    if (decision.accepted()) {
      return true;
    }
    String reason = decision.admission().reason();
    Meters.counter(metrics, "feedline.fence.rejections", "Control messages a receiver refused by its fence, by role, type and reason",
        "role", role, "type", type, "reason", reason).increment();
    onceLog.warn(List.of(changefeed, type, reason, senderEpoch, local.epoch()),
        () -> "event=fence_reject role=" + role + " changefeed=" + changefeed + " type=" + type + " reason=" + reason
            + " from=" + from + " sender_epoch=" + Epochs.format(senderEpoch) + " local_epoch=" + Epochs.format(local.epoch())
            + " local_owner=" + local.owner());
    return false;
  }
}
