package io.feedline.dispatcher.orchestrator;

import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The orchestrator's {@link Fence} per changefeed, as its {@link io.feedline.common.messaging.FencedInbox} reads
 * them and its handlers keep them. It outlives the changefeed's dispatcher manager: after a close the fence is the
 * tombstone that keeps a late bootstrap of the closed ownership from resurrecting it.
 */
final class ChangefeedFences {

  private final Map<ChangefeedId, Fence> fences = new HashMap<>();

  Fence current(ChangefeedId changefeed) {
    return fences.getOrDefault(changefeed, Fence.INITIAL);
  }

  /** Every changefeed this node holds a fence (or a tombstone) for. */
  Map<ChangefeedId, Fence> all() {
    return Collections.unmodifiableMap(new TreeMap<>(fences));
  }

  /** The message of an accepted decision is being acted on: its fence becomes the current one. */
  void keep(ChangefeedId changefeed, Fence.Decision decision) {
    fences.put(changefeed, decision.next());
  }
}
