package io.feedline.coordinator.changefeed;

import io.feedline.common.id.ChangefeedId;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;

/**
 * A changefeed as persisted: its info and status records with the mod revisions they were read at
 * (0 = the key is absent), which every later write compares against.
 */
public record ChangefeedRecord(ChangefeedInfo info, long infoRevision, ChangefeedStatus status, long statusRevision) {

  public ChangefeedId id() {
    return ChangefeedId.of(info.getId());
  }

  public long epoch() {
    return info.getEpoch();
  }
}
