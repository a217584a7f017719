package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.id.NodeId;
import io.feedline.proto.ControlEnvelope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultRulesTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");
  private static final ControlEnvelope ANY = ControlEnvelope.getDefaultInstance();

  private static List<Verdict> verdicts(FaultRules rules, int n) {
    List<Verdict> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(rules.intercept(new Route(N1, N2, Role.DISPATCHER_ORCHESTRATOR), "ScheduleDispatcherRequest", ANY));
    }
    return out;
  }

  @Test
  void reorderDelaysWithinTheWindowAndReplaysIdenticallyFromTheSeed() {
    FaultRules.Rule reorder = new FaultRules.Rule(Set.of(), null, null, FaultRules.Action.REORDER, 1.0, 50);
    List<Verdict> first = verdicts(new FaultRules(11).add(reorder), 200);
    List<Verdict> replay = verdicts(new FaultRules(11).add(reorder), 200);
    assertThat(replay).isEqualTo(first);
    assertThat(first).allSatisfy(v -> assertThat(v).isInstanceOfSatisfying(Verdict.Delay.class,
        d -> assertThat(d.millis()).isBetween(0L, 50L)));
    // Different delays, so messages overtake each other.
    assertThat(first.stream().distinct().count()).isGreaterThan(10);
  }

  @Test
  void probabilityIsHonouredOverManyMessages() {
    FaultRules rules = new FaultRules(5).add(new FaultRules.Rule(Set.of(), N1, N2, FaultRules.Action.DROP, 0.3, 0));
    long drops = verdicts(rules, 10_000).stream().filter(v -> v instanceof Verdict.Drop).count();
    assertThat(drops).isBetween(2_700L, 3_300L);
  }

  @Test
  void rulesMatchOnlyTheirTypesAndPairsAndHealRemovesAll() {
    FaultRules rules = new FaultRules(1);
    rules.drop(N1, N2, "MaintainerBootstrapRequest");
    rules.partition(N2, N3);
    assertThat(rules.intercept(new Route(N1, N2, Role.DISPATCHER_ORCHESTRATOR), "MaintainerBootstrapRequest", ANY)).isEqualTo(Verdict.DROP);
    assertThat(rules.intercept(new Route(N1, N2, Role.DISPATCHER_ORCHESTRATOR), "ScheduleDispatcherRequest", ANY)).isEqualTo(Verdict.DELIVER);
    assertThat(rules.intercept(new Route(N2, N1, Role.DISPATCHER_ORCHESTRATOR), "MaintainerBootstrapRequest", ANY)).isEqualTo(Verdict.DELIVER);
    assertThat(rules.intercept(new Route(N3, N2, Role.COORDINATOR), "NodeHeartbeat", ANY)).isEqualTo(Verdict.DROP);
    rules.heal();
    assertThat(rules.intercept(new Route(N3, N2, Role.COORDINATOR), "NodeHeartbeat", ANY)).isEqualTo(Verdict.DELIVER);
  }

  @Test
  void probabilityOutsideZeroToOneIsRejected() {
    assertThatThrownBy(() -> new FaultRules.Rule(Set.of(), null, null, FaultRules.Action.DROP, 1.5, 0))
        .hasMessageContaining("probability must be within [0, 1]");
  }
}
