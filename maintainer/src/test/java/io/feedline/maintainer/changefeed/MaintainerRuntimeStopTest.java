package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.A;
import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static io.feedline.maintainer.changefeed.MaintainerHarness.C;
import static io.feedline.maintainer.changefeed.MaintainerHarness.EPOCH;
import static io.feedline.maintainer.changefeed.MaintainerHarness.RESEND;
import static io.feedline.maintainer.changefeed.MaintainerHarness.TICK;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.common.time.ManualScheduler;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link MaintainerRuntime#stop}: a thin performer of the maintainer's removal, on a manual clock. */
class MaintainerRuntimeStopTest {

  private final ManualScheduler scheduler = new ManualScheduler(1_000);
  private final RecordingOutbox outbox = new RecordingOutbox();
  private final Set<NodeId> live = new LinkedHashSet<>(List.of(A, B, C));
  private final FakeDispatcherSide side = new FakeDispatcherSide(A, B, C);
  private final List<Outbound> delivered = new ArrayList<>();
  private MaintainerRuntime runtime;

  @BeforeEach
  void working() {
    MaintainerConfig config = MaintainerHarness.config(A, EPOCH, 100, 10_000, 42, new SimpleMeterRegistry());
    runtime = new MaintainerRuntime(config, new MaintainerServices(A, outbox, scheduler, Duration.ofMillis(RESEND), () -> Set.copyOf(live)), TICK);
    runtime.start();
    for (int i = 0; i < 10 && !runtime.maintainer().working(); i++) {
      step(TICK);
    }
    assertThat(runtime.maintainer().working()).isTrue();
    outbox.clear();
    delivered.clear();
  }

  /** Time moves on; what the runtime sent is delivered and answered; every node heartbeats. */
  private void step(long millis) {
    scheduler.advance(millis);
    deliver();
    for (NodeId n : live) {
      runtime.onDispatcherMessage(n, side.heartbeat(n, "cf1"));
    }
    deliver();
  }

  private void deliver() {
    while (!outbox.all().isEmpty()) {
      List<Outbound> out = outbox.all();
      outbox.clear();
      delivered.addAll(out);
      for (Outbound o : out) {
        Message answer = side.answer(o.to(), o.payload());
        if (answer != null) {
          runtime.onDispatcherMessage(o.to(), answer);
        }
      }
    }
  }

  private List<NodeId> closeRequestsTo() {
    return delivered.stream().filter(o -> o.payload() instanceof MaintainerCloseRequest).map(Outbound::to).toList();
  }

  @Test
  void aCascadingStopKeepsTheMaintainerRunningUntilEveryNodeClosed() {
    side.answerCloses = false;

    Future<Void> stopped = runtime.stop(true, false);
    deliver();

    assertThat(stopped.isComplete()).isFalse();
    assertThat(closeRequestsTo()).containsExactlyInAnyOrder(A, B, C);
    // The dispatchers still report while they close: the checkpoint the pause ends with follows them.
    side.advanceAll(500);
    step(TICK);
    step(TICK);
    assertThat(runtime.status().getCheckpointTs()).isEqualTo(500);
    delivered.clear();
    step(RESEND);
    assertThat(closeRequestsTo()).as("asked again").containsExactlyInAnyOrder(A, B, C);

    for (NodeId n : live) {
      runtime.onDispatcherMessage(n, MaintainerCloseResponse.newBuilder().setChangefeedId("cf1").setSuccess(true).setEpoch(EPOCH).build());
    }

    assertThat(stopped.succeeded()).isTrue();
    assertThat(scheduler.pending()).as("the ticker is cancelled").isZero();
    assertThat(runtime.stop(true, false)).isSameAs(stopped);
    assertThat(runtime.status().getCheckpointTs()).isEqualTo(500);
  }

  @Test
  void aStopWithoutCascadeIsDoneAtOnceAndClosesNothing() {
    Future<Void> stopped = runtime.stop(false, false);
    deliver();

    assertThat(stopped.succeeded()).isTrue();
    assertThat(scheduler.pending()).isZero();
    step(4 * RESEND);
    assertThat(closeRequestsTo()).isEmpty();
    assertThat(side.liveCount()).as("the trigger stays for the next owner").isEqualTo(1);
  }
}
