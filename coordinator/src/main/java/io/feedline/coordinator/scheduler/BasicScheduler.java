package io.feedline.coordinator.scheduler;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/** Places changefeeds without a maintainer on the least-loaded schedulable nodes. Pure. */
public final class BasicScheduler {

  private BasicScheduler() {}

  /**
   * @param absent changefeeds to place, in the order they should be placed
   * @param load maintainers per schedulable node, counting in-flight placements; only these nodes are used
   * @param batchSize at most this many placements
   * @return changefeed → destination, in placement order
   */
  public static Map<ChangefeedId, NodeId> place(List<ChangefeedId> absent, Map<NodeId, Integer> load, int batchSize) {
    Map<ChangefeedId, NodeId> placed = new LinkedHashMap<>();
    if (load.isEmpty()) {
      return placed;
    }
    // Ties broken by node id so that a placement is reproducible.
    PriorityQueue<Map.Entry<NodeId, Integer>> nodes = new PriorityQueue<>(
        Comparator.<Map.Entry<NodeId, Integer>>comparingInt(Map.Entry::getValue).thenComparing(Map.Entry::getKey));
    load.forEach((node, count) -> nodes.add(new java.util.AbstractMap.SimpleEntry<>(node, count)));
    for (ChangefeedId id : absent) {
      if (placed.size() >= batchSize) {
        break;
      }
      Map.Entry<NodeId, Integer> least = nodes.poll();
      placed.put(id, least.getKey());
      least.setValue(least.getValue() + 1);
      nodes.add(least);
    }
    return placed;
  }
}
