package io.feedline.maintainer;

import io.feedline.common.id.ChangefeedId;
import io.feedline.proto.ChangefeedInfo;

/** For the manager's protocol tests: placeholder maintainers for adds, the real remove-only maintainers for removals. */
public final class PlaceholderMaintainerFactory implements MaintainerFactory {

  private final MaintainerServices services;

  public PlaceholderMaintainerFactory(MaintainerServices services) {
    this.services = services;
  }

  @Override
  public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
    return new PlaceholderMaintainer(changefeed, epoch, checkpointTs, services);
  }

  @Override
  public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
    return new RemoveOnlyMaintainer(changefeed, epoch, removed, services);
  }
}
