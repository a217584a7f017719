package io.feedline.coordinator.scheduler;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Evens out maintainers across nodes: moves from the most to the least loaded node while they differ by
 * more than one. Pure; the caller runs it only when nothing is absent or in flight.
 */
public final class BalanceScheduler {

  public record Move(ChangefeedId changefeed, NodeId from, NodeId to) {}

  private BalanceScheduler() {}

  /** @param byNode the changefeeds each schedulable node runs (every schedulable node present, maybe empty) */
  public static List<Move> balance(Map<NodeId, List<ChangefeedId>> byNode, int maxMoves) {
    Map<NodeId, List<ChangefeedId>> load = new TreeMap<>();
    byNode.forEach((node, cfs) -> load.put(node, new ArrayList<>(cfs.stream().sorted().toList())));
    List<Move> moves = new ArrayList<>();
    Comparator<Map.Entry<NodeId, List<ChangefeedId>>> bySize = Comparator.comparingInt(e -> e.getValue().size());
    while (moves.size() < maxMoves && load.size() > 1) {
      var most = load.entrySet().stream().max(bySize.thenComparing(Map.Entry::getKey, Comparator.reverseOrder())).orElseThrow();
      var least = load.entrySet().stream().min(bySize.thenComparing(Map.Entry::getKey)).orElseThrow();
      if (most.getValue().size() - least.getValue().size() <= 1) {
        break;
      }
      ChangefeedId moved = most.getValue().remove(most.getValue().size() - 1);
      least.getValue().add(moved);
      moves.add(new Move(moved, most.getKey(), least.getKey()));
    }
    return moves;
  }
}
