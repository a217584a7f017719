package io.feedline.maintainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Role;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.common.time.ManualScheduler;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TimedCloseRoundsTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");
  private static final ChangefeedId CF = ChangefeedId.of("cf1");
  private static final long EPOCH = 7;

  private final ManualScheduler scheduler = new ManualScheduler(0);
  private final RecordingOutbox outbox = new RecordingOutbox();
  private final Set<NodeId> live = new LinkedHashSet<>(List.of(N1, N2, N3));
  private final TimedCloseRounds closer = new TimedCloseRounds(CF, EPOCH, true,
      new MaintainerServices(N1, outbox, scheduler, Duration.ofMillis(500), () -> Set.copyOf(live)));

  private List<MaintainerCloseRequest> requestsTo(NodeId node) {
    return outbox.of(node, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.class);
  }

  private static MaintainerCloseResponse response(boolean success, long epoch) {
    return MaintainerCloseResponse.newBuilder().setChangefeedId(CF.value()).setSuccess(success).setEpoch(epoch).build();
  }

  @Test
  void asksEveryLiveNodeAndAsksAgainEveryIntervalUntilEachConfirms() {
    Future<Void> closed = closer.start();

    for (NodeId node : live) {
      assertThat(requestsTo(node)).containsExactly(
          MaintainerCloseRequest.newBuilder().setChangefeedId("cf1").setRemoved(true).setEpoch(EPOCH).build());
    }
    closer.onResponse(N1, response(true, EPOCH));
    scheduler.advance(499);
    assertThat(outbox.all()).hasSize(3);
    scheduler.advance(1);
    assertThat(requestsTo(N1)).hasSize(1);
    assertThat(requestsTo(N2)).hasSize(2);
    assertThat(requestsTo(N3)).hasSize(2);

    closer.onResponse(N2, response(true, EPOCH));
    closer.onResponse(N3, response(true, EPOCH));

    assertThat(closed.succeeded()).isTrue();
    scheduler.advance(5_000);
    assertThat(outbox.all()).hasSize(5);
    assertThat(scheduler.pending()).isZero();
  }

  /** (An answer for another epoch never gets here: the maintainer manager's door drops it, see MaintainerManagerTest.) */
  @Test
  void notYetClosedDoesNotCount() {
    Future<Void> closed = closer.start();
    closer.onResponse(N1, response(true, EPOCH));
    closer.onResponse(N2, response(false, EPOCH));

    scheduler.advance(500);
    assertThat(closed.isComplete()).isFalse();
    assertThat(requestsTo(N2)).hasSize(2);
    assertThat(requestsTo(N3)).hasSize(2);

    closer.onResponse(N2, response(true, EPOCH));
    closer.onResponse(N3, response(true, EPOCH));
    assertThat(closed.succeeded()).isTrue();
  }

  @Test
  void aNodeThatLeavesTheClusterCountsAsClosed() {
    Future<Void> closed = closer.start();
    closer.onResponse(N1, response(true, EPOCH));
    closer.onResponse(N2, response(true, EPOCH));

    live.remove(N3);
    scheduler.advance(500);

    assertThat(closed.succeeded()).isTrue();
    assertThat(requestsTo(N3)).hasSize(1);
  }

  @Test
  void withNoLiveNodeThereIsNothingToClose() {
    live.clear();
    assertThat(closer.start().succeeded()).isTrue();
    assertThat(outbox.all()).isEmpty();
    assertThat(scheduler.pending()).isZero();
  }

  @Test
  void startingAgainNeitherResendsNorForgetsWhoAnswered() {
    Future<Void> first = closer.start();
    closer.onResponse(N1, response(true, EPOCH));
    Future<Void> second = closer.start();

    assertThat(second).isSameAs(first);
    assertThat(outbox.all()).hasSize(3);
    scheduler.advance(500);
    assertThat(requestsTo(N1)).hasSize(1);
  }

  @Test
  void answersBeforeStartAreIgnored() {
    closer.onResponse(N1, response(true, EPOCH));
    closer.start();
    scheduler.advance(500);
    assertThat(requestsTo(N1)).hasSize(2);
  }
}
