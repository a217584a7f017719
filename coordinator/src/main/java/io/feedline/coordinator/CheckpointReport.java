package io.feedline.coordinator;

import io.feedline.proto.CheckpointBlocker;
import java.util.List;

/**
 * What a changefeed's maintainer last reported besides its checkpoint: the spans holding the checkpoint
 * back (slowest first, with why) and the lowest resolved position of its dispatchers (0: none yet).
 */
public record CheckpointReport(List<CheckpointBlocker> blockers, long resolvedTs) {

  /** No maintainer placed, or none reported yet. */
  public static final CheckpointReport NONE = new CheckpointReport(List.of(), 0);
}
