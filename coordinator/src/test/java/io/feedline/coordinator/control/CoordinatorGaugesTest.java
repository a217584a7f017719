package io.feedline.coordinator.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.tso.TimestampOracle;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CoordinatorGaugesTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final CoordinatorGauges gauges = new CoordinatorGauges(registry);
  private ControlHarness h;

  @Test
  void reportCheckpointStateAndMaintainersPerNodeAndForgetRemovedChangefeeds() {
    h = new ControlHarness(2);
    h.elect();
    h.stepUntil("bootstrapped", () -> h.control.bootstrapped(), 5);
    h.create("cf1");
    h.create("cf2");
    h.stepUntil("placed", () -> h.settled("cf1") && h.settled("cf2"), 20);
    long checkpoint = h.memory("cf1").status().getCheckpointTs();
    long physical = TimestampOracle.physicalMillis(checkpoint);
    // Every step delivers each node's heartbeat, then advances the clock one tick (100 ms).
    long now = h.clock.nowMillis() + 2_000;
    gauges.refresh(h.control, now);

    assertThat(registry.get("feedline.changefeed.checkpoint.timestamp").tag("changefeed", "cf1").gauge().value())
        .isEqualTo(physical / 1000.0);
    gauges.refresh(h.control, physical + 2_500);
    assertThat(registry.get("feedline.changefeed.checkpoint.lag.seconds").tag("changefeed", "cf1").gauge().value()).isEqualTo(2.5);
    gauges.refresh(h.control, physical - 300);
    assertThat(registry.get("feedline.changefeed.checkpoint.lag.seconds").tag("changefeed", "cf1").gauge().value())
        .as("a checkpoint ahead of the coordinator's clock (another node's TSO) is not behind: no negative lag").isZero();
    gauges.refresh(h.control, now);
    Set<String> hosting = h.control.maintainers().values().stream().map(n -> n.value()).collect(Collectors.toSet());
    assertThat(registry.get("feedline.coordinator.heartbeat.age.seconds").gauges())
        .as("one row per node hosting maintainers, aged since its last heartbeat")
        .allSatisfy(g -> assertThat(g.value()).isEqualTo(2.1))
        .extracting(g -> g.getId().getTag("node")).containsExactlyInAnyOrderElementsOf(hosting);
    Timer added = h.metrics.get("feedline.coordinator.operator.duration").tags("kind", "AddMaintainer", "outcome", "succeeded").timer();
    assertThat(added.count()).isEqualTo(2);
    assertThat(added.totalTime(TimeUnit.MILLISECONDS)).as("at least one tick passes between start and confirmation").isGreaterThanOrEqualTo(200);
    assertThat(registry.get("feedline.changefeed.state").tags("changefeed", "cf2", "state", "NORMAL").gauge().value()).isEqualTo(1);
    double placed = registry.get("feedline.coordinator.maintainers").gauges().stream().mapToDouble(Gauge::value).sum();
    assertThat(placed).isEqualTo(2);

    h.call(r -> h.control.pause(r, ChangefeedId.of("cf2")));
    gauges.refresh(h.control, now);
    assertThat(registry.find("feedline.changefeed.state").tags("changefeed", "cf2", "state", "NORMAL").gauge())
        .as("a changed state replaces its row").isNull();
    assertThat(registry.get("feedline.changefeed.state").tags("changefeed", "cf2", "state", "STOPPED").gauge().value()).isEqualTo(1);

    gauges.clear();
    assertThat(registry.find("feedline.changefeed.checkpoint.timestamp").gauges()).isEmpty();
    assertThat(registry.find("feedline.changefeed.checkpoint.lag.seconds").gauges()).isEmpty();
    assertThat(registry.find("feedline.coordinator.heartbeat.age.seconds").gauges()).isEmpty();
  }

  @Test
  void reportWhatIsLeftOfADrainAndDispatchersPerNode() {
    h = new ControlHarness(3);
    h.elect();
    h.stepUntil("bootstrapped", () -> h.control.bootstrapped(), 5);
    h.create("cf1");
    h.stepUntil("placed", () -> h.settled("cf1"), 20);
    gauges.refresh(h.control, h.clock.nowMillis());
    assertThat(registry.find("feedline.coordinator.drain.remaining").gauges()).as("no drain").isEmpty();
    NodeId owner = h.maintainers().get(ChangefeedId.of("cf1"));
    assertThat(registry.get("feedline.node.dispatchers").tag("node", owner.value()).gauge().value())
        .as("the fake reports 10 dispatchers per maintainer").isEqualTo(10);

    NodeId drained = h.nodes.keySet().stream().filter(n -> !n.equals(owner) && !n.value().equals("n1")).findFirst().orElseThrow();
    h.node(drained.value()).dispatchersOnTarget.clear();
    h.call(r -> h.control.drain(r, drained));
    gauges.refresh(h.control, h.clock.nowMillis());
    assertThat(registry.get("feedline.coordinator.drain.remaining").tag("node", drained.value()).gauge().value())
        .as("cf1's maintainer has not acknowledged the target yet").isEqualTo(1);
    h.stepUntil("drained", () -> {
      gauges.refresh(h.control, h.clock.nowMillis());
      return registry.get("feedline.coordinator.drain.remaining").tag("node", drained.value()).gauge().value() == 0;
    }, 10);
  }
}
