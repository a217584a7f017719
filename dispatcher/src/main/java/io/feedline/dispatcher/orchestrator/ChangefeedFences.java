package io.feedline.dispatcher.orchestrator;

import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * The orchestrator's {@link Fence} per changefeed. It outlives the changefeed's dispatcher manager: after
 * a close the fence is the tombstone that keeps a late bootstrap of the closed ownership from
 * resurrecting it. Every rejection is counted and logged through {@link FenceRejections}.
 */
final class ChangefeedFences {

  /** Which rule of DESIGN §3 a message type is checked by. */
  enum Rule {
    BOOTSTRAP,
    CONTROL,
    CLOSE
  }

  private final Map<ChangefeedId, Fence> fences = new HashMap<>();
  private final FenceRejections rejections;

  ChangefeedFences(FenceRejections rejections) {
    this.rejections = rejections;
  }

  Fence current(ChangefeedId changefeed) {
    return fences.getOrDefault(changefeed, Fence.INITIAL);
  }

  /** Checks a message; a rejection is counted by type and reason and logged once with both epochs. */
  Fence.Decision admit(Rule rule, ChangefeedId changefeed, String type, NodeId from, long senderEpoch) {
    Fence fence = current(changefeed);
    Fence.Decision decision = switch (rule) {
      case BOOTSTRAP -> fence.admitBootstrap(from, senderEpoch);
      case CONTROL -> fence.admitControl(from, senderEpoch);
      case CLOSE -> fence.admitClose(from, senderEpoch);
    };
    rejections.check(decision, changefeed.value(), type, from, senderEpoch, fence);
    return decision;
  }

  /** Every changefeed this node holds a fence (or a tombstone) for. */
  Map<ChangefeedId, Fence> all() {
    return Map.copyOf(fences);
  }

  /** The message of an accepted decision is being acted on: its fence becomes the current one. */
  void keep(ChangefeedId changefeed, Fence.Decision decision) {
    fences.put(changefeed, decision.next());
  }
}
