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
import java.util.function.LongSupplier;

/** The node's maintainers: a {@link MaintainerRuntime} per added changefeed, remove-only maintainers for removals. */
public final class ChangefeedMaintainerFactory implements MaintainerFactory {

  private final MaintainerServices services;
  private final Timings timings;
  private final MeterRegistry metrics;
  /** Seeds each maintainer's id generator. */
  private final LongSupplier seeds;

  /** A node's factory: every maintainer's ids come from a securely seeded generator. */
  public ChangefeedMaintainerFactory(MaintainerServices services, Timings timings, MeterRegistry metrics) {
    this(services, timings, metrics, new SecureRandom()::nextLong);
  }

  /** @param seeds seeds each maintainer's id generator: the simulator's own seeded random, so a seed replays exactly */
  public ChangefeedMaintainerFactory(MaintainerServices services, Timings timings, MeterRegistry metrics, LongSupplier seeds) {
    this.services = services;
    this.timings = timings;
    this.metrics = metrics;
    this.seeds = seeds;
  }

  @Override
  public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
    // Ids are drawn fast (a million spans) yet unpredictable across maintainers: a fast generator, securely seeded.
    MaintainerConfig config = new MaintainerConfig(services.self(), changefeed, epoch, info, checkpointTs, isNew,
        services.resendInterval().toMillis(), timings.balanceInterval().toMillis(), MaintainerConfig.batchSizeOf(info),
        new SplittableRandom(seeds.getAsLong()), metrics);
    return new MaintainerRuntime(config, services, timings.maintainerTick().toMillis());
  }

  @Override
  public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
    return new RemoveOnlyMaintainer(changefeed, epoch, removed, services);
  }
}
