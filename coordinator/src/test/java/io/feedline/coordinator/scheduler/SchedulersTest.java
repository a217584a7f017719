package io.feedline.coordinator.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulersTest {

  private static final NodeId A = NodeId.of("a");
  private static final NodeId B = NodeId.of("b");
  private static final NodeId C = NodeId.of("c");

  private static List<ChangefeedId> cfs(int n) {
    return IntStream.range(0, n).mapToObj(i -> ChangefeedId.of("cf" + i)).toList();
  }

  @Test
  void basicFillsTheLeastLoadedFirstAndRespectsTheBatch() {
    Map<ChangefeedId, NodeId> placed = BasicScheduler.place(cfs(5), Map.of(A, 2, B, 0, C, 1), 10);
    assertThat(placed.values()).containsExactly(B, B, C, A, B);
    assertThat(BasicScheduler.place(cfs(5), Map.of(A, 0), 3)).hasSize(3);
    assertThat(BasicScheduler.place(cfs(5), Map.of(), 3)).isEmpty();
  }

  @Test
  void balanceMovesUntilNoNodeHasTwoMoreThanAnother() {
    Map<NodeId, List<ChangefeedId>> byNode = new TreeMap<>(Map.of(A, new ArrayList<>(cfs(7)), B, List.of(), C, List.of(ChangefeedId.of("x"))));
    List<BalanceScheduler.Move> moves = BalanceScheduler.balance(byNode, 100);
    assertThat(moves).hasSize(4).allSatisfy(m -> assertThat(m.from()).isEqualTo(A));
    assertThat(moves.stream().filter(m -> m.to().equals(B)).count()).isEqualTo(3);
    assertThat(BalanceScheduler.balance(byNode, 2)).hasSize(2);
    assertThat(BalanceScheduler.balance(Map.of(A, cfs(2), B, cfs(1)), 10)).isEmpty();
  }
}
