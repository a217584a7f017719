package io.feedline.dispatcher.testing;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.dataplane.DataLane;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** A changefeed's place on a one-lane data plane running on a given scheduler, for dispatcher tests. */
public final class TestLanes {

  /** Roomy enough that no test of a single dispatcher waits for memory unless it means to. */
  public static final long QUOTA = 64L << 20;

  private TestLanes() {}

  public static DataLane.Tenant tenant(Scheduler scheduler) {
    return DataPlane.onScheduler(scheduler, QUOTA, new SimpleMeterRegistry()).join(ChangefeedId.of("cf"));
  }
}
