package io.feedline.common.messaging;

import io.feedline.common.id.NodeId;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** The fixture of the bus's tests: two control buses on one Vert.x, as nodes n1 and n2, counting into one registry. */
@ExtendWith(VertxExtension.class)
public abstract class TwoNodeBuses {

  protected static final NodeId N1 = NodeId.of("n1");
  protected static final NodeId N2 = NodeId.of("n2");

  protected SimpleMeterRegistry metrics;
  protected ControlBus bus1;
  protected ControlBus bus2;

  @BeforeEach
  void startBuses(Vertx vertx) {
    metrics = new SimpleMeterRegistry();
    bus1 = new ControlBus(vertx, N1, metrics);
    bus2 = new ControlBus(vertx, N2, metrics);
  }

  /** A fenced request of changefeed cf1 at {@code epoch}. */
  protected static ScheduleDispatcherRequest schedule(long epoch) {
    return ScheduleDispatcherRequest.newBuilder().setChangefeedId("cf1").setEpoch(epoch).build();
  }
}
