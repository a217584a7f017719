package io.feedline.maintainer.changefeed;

import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerFactory;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.maintainer.RemoveOnlyMaintainer;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.SecureRandom;
import java.util.SplittableRandom;

/** The node's maintainers: a {@link MaintainerRuntime} per added changefeed, remove-only maintainers for removals. */
public final class ChangefeedMaintainerFactory implements MaintainerFactory {

  private final MaintainerServices services;
  private final Timings timings;
  private final MeterRegistry metrics;
  private final SecureRandom seeds = new SecureRandom();

  public ChangefeedMaintainerFactory(MaintainerServices services, Timings timings, MeterRegistry metrics) {
    this.services = services;
    this.timings = timings;
    this.metrics = metrics;
  }

  @Override
  public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
    // Ids are drawn fast (a million spans) yet unpredictable across maintainers: a fast generator, securely seeded.
    MaintainerConfig config = new MaintainerConfig(services.self(), changefeed, epoch, info, checkpointTs, isNew,
        services.resendInterval().toMillis(), timings.balanceInterval().toMillis(), MaintainerConfig.batchSizeOf(info),
        new SplittableRandom(seeds.nextLong()), metrics);
    return new MaintainerRuntime(config, services, timings.maintainerTick().toMillis());
  }

  @Override
  public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
    return new RemoveOnlyMaintainer(changefeed, epoch, removed, services);
  }
}
