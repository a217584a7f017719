package io.feedline.maintainer;

import io.feedline.common.id.ChangefeedId;
import io.feedline.proto.ChangefeedInfo;

/**
 * Creates the manager's maintainers. Creating must have no observable effect (no sends, no timers): the
 * manager decides, and its runtime then starts or stops what was created. It must not throw either: the
 * manager validated the request, and anything else that can fail belongs in the maintainer's start.
 */
public interface MaintainerFactory {

  /** A maintainer owning {@code changefeed} at {@code epoch}, from an accepted add request. */
  Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew);

  /**
   * A maintainer that only closes the changefeed's dispatcher managers on every live node at
   * {@code epoch}, then is done: a newer stop decision after the owner's maintainer is gone.
   */
  Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed);
}
