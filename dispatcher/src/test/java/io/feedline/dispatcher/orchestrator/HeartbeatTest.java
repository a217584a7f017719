package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeartbeatTest {

  private static final String CF = "cf1";
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");

  private final OrchestratorFixture f = new OrchestratorFixture();

  private List<Outbound> heartbeats() {
    return f.outbox.sentOf(DispatcherHeartbeat.class);
  }

  @Test
  void heartbeatsGoToTheOwnersMaintainerManagerEveryIntervalAndAtOnceOnAStateChange() {
    f.deliver(N1, Requests.bootstrap(CF, 5));
    f.outbox.clear();
    f.scheduler.advance(199);
    assertThat(heartbeats()).isEmpty();
    f.scheduler.advance(1);
    assertThat(heartbeats()).singleElement().satisfies(s -> {
      assertThat(s.to()).isEqualTo(N1);
      assertThat(s.role()).isEqualTo(Role.MAINTAINER_MANAGER);
      assertThat(((DispatcherHeartbeat) s.payload()).getEpoch()).isEqualTo(5);
    });

    f.outbox.clear();
    f.deliver(N1, Requests.create(CF, 5, id(1), table(1)));
    // Created, then Working once its lane has subscribed: each change is pushed without waiting for the tick.
    assertThat(heartbeats()).as("pushed without waiting for the tick").isNotEmpty().last()
        .satisfies(s -> assertThat(((DispatcherHeartbeat) s.payload()).getStatuses(0).getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING));

    // A takeover moves the heartbeats to the new owner, at its epoch.
    f.deliver(N2, Requests.bootstrap(CF, 6));
    f.outbox.clear();
    f.scheduler.advance(200);
    assertThat(heartbeats()).singleElement().satisfies(s -> {
      assertThat(s.to()).isEqualTo(N2);
      assertThat(((DispatcherHeartbeat) s.payload()).getEpoch()).isEqualTo(6);
    });
  }

  @Test
  void theWatermarkFollowsWhatTheSinkMadeDurable() {
    ControllableSink sink = f.endpoints.sink("s").holdWrites();
    f.deliver(N1, Requests.bootstrap(CF, 5, "test://s"));
    f.deliver(N1, Requests.create(CF, 5, id(1), table(1)));
    f.scheduler.advance(2_000); // 2000 upstream ticks at rate=1000
    f.outbox.clear();
    f.scheduler.advance(200);
    long held = f.outbox.last(DispatcherHeartbeat.class).getWatermark().getCheckpointTs();
    // The first write (the span's initial record, or rows) is held: nothing it covers is durable yet.
    SinkBatch pending = sink.written().get(sink.written().size() - 1);
    assertThat(held).isEqualTo(pending.fromTs()).isLessThan(pending.resolvedTs());

    sink.releaseWrites();
    f.scheduler.advance(200);
    DispatcherHeartbeat after = f.outbox.last(DispatcherHeartbeat.class);
    assertThat(after.getWatermark().getCheckpointTs()).isGreaterThanOrEqualTo(pending.resolvedTs());
    assertThat(after.getWatermark().getSeq()).isGreaterThan(0);
  }

  @Test
  void aClosedManagerSendsNoMoreHeartbeats() {
    f.deliver(N1, Requests.bootstrap(CF, 5));
    f.deliver(N1, Requests.close(CF, 5));
    f.outbox.clear();
    f.scheduler.advance(5_000);
    assertThat(heartbeats()).isEmpty();
  }
}
