package io.feedline.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.tso.TimestampOracle;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CoordinatorGaugesTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final CoordinatorGauges gauges = new CoordinatorGauges(registry);
  private CoordinatorHarness h;

  @AfterEach
  void close() {
    h.close();
  }

  @Test
  void reportCheckpointStateAndMaintainersPerNodeAndForgetRemovedChangefeeds() {
    h = new CoordinatorHarness(2);
    h.elect();
    h.stepUntil("bootstrapped", () -> h.onContext(() -> Future.succeededFuture(h.coordinator.bootstrapped())), 5);
    h.create("cf1");
    h.create("cf2");
    h.stepUntil("placed", () -> h.settled("cf1") && h.settled("cf2"), 20);
    h.run(() -> gauges.refresh(h.coordinator));

    long checkpoint = h.memory("cf1").status().getCheckpointTs();
    assertThat(registry.get("feedline.changefeed.checkpoint.physical.ms").tag("changefeed", "cf1").gauge().value())
        .isEqualTo(TimestampOracle.physicalMillis(checkpoint));
    assertThat(registry.get("feedline.changefeed.state").tags("changefeed", "cf2", "state", "NORMAL").gauge().value()).isEqualTo(1);
    double placed = registry.get("feedline.coordinator.maintainers").gauges().stream().mapToDouble(Gauge::value).sum();
    assertThat(placed).isEqualTo(2);

    h.onContext(() -> h.coordinator.pause(ChangefeedId.of("cf2")));
    h.run(() -> gauges.refresh(h.coordinator));
    assertThat(registry.find("feedline.changefeed.state").tags("changefeed", "cf2", "state", "NORMAL").gauge())
        .as("a changed state replaces its row").isNull();
    assertThat(registry.get("feedline.changefeed.state").tags("changefeed", "cf2", "state", "STOPPED").gauge().value()).isEqualTo(1);

    gauges.clear();
    assertThat(registry.find("feedline.changefeed.checkpoint.physical.ms").gauges()).isEmpty();
  }
}
