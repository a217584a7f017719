package io.feedline.maintainer.changefeed;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.random.RandomGenerator;

/**
 * What one {@link ChangefeedMaintainer} is created with.
 *
 * @param checkpointTs the changefeed checkpoint the add request carried: where the maintainer resumes
 * @param resendMillis how often unanswered requests and actions are sent again
 * @param balanceMillis how often the balance scheduler looks at span counts
 * @param batchSize how many span operators may be in flight at once
 * @param random draws dispatcher ids; seeded in tests
 */
public record MaintainerConfig(
    NodeId self,
    ChangefeedId changefeed,
    long epoch,
    ChangefeedInfo info,
    long checkpointTs,
    boolean isNew,
    long resendMillis,
    long balanceMillis,
    int batchSize,
    RandomGenerator random,
    MeterRegistry metrics) {

  /** The changefeed option that overrides {@link io.feedline.maintainer.scheduler.BasicSpanScheduler#DEFAULT_BATCH_SIZE}. */
  public static final String BATCH_SIZE_OPTION = "scheduler.batch-size";

  /** The batch size {@code info} configures, or the default when it names none or an unusable one. */
  public static int batchSizeOf(ChangefeedInfo info) {
    String configured = info.getOptionsMap().get(BATCH_SIZE_OPTION);
    if (configured != null) {
      try {
        int size = Integer.parseInt(configured.trim());
        if (size > 0) {
          return size;
        }
      } catch (NumberFormatException e) {
        // Falls back to the default: a changefeed must not fail to start over a tuning option.
      }
    }
    return io.feedline.maintainer.scheduler.BasicSpanScheduler.DEFAULT_BATCH_SIZE;
  }
}
