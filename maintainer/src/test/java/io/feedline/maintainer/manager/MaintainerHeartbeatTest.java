package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.bootstrap;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaintainerHeartbeatTest {

  /** Advances to the next heartbeat tick and returns the changefeeds its heartbeat carried. */
  private static List<String> nextTick(ManagerFixture f) {
    f.outbox.clear();
    f.advance(200);
    List<MaintainerHeartbeat> sent = f.heartbeats();
    assertThat(sent).hasSizeLessThanOrEqualTo(1);
    return sent.isEmpty() ? List.of() : sent.get(0).getStatusesList().stream().map(MaintainerStatus::getChangefeedId).toList();
  }

  @Test
  void changedStatusesGoOutEvery200MillisAndUnchangedOnesEverySecond() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("busy", 1));
    f.receive(COORDINATOR, add("idle", 2));
    HandStoppedMaintainer busy = f.maintainer(0);

    List<List<String>> ticks = new ArrayList<>();
    for (int tick = 1; tick <= 12; tick++) {
      busy.advanceCheckpoint(1_000 + tick);
      ticks.add(nextTick(f));
    }

    // t=200 both are new; then busy changes every tick, idle is forced at t=1200 and t=2200.
    assertThat(ticks).containsExactly(
        List.of("busy", "idle"), List.of("busy"), List.of("busy"), List.of("busy"), List.of("busy"),
        List.of("busy", "idle"), List.of("busy"), List.of("busy"), List.of("busy"), List.of("busy"),
        List.of("busy", "idle"), List.of("busy"));
  }

  @Test
  void nothingIsSentWhileNoCoordinatorIsKnownAndHeartbeatsFollowTheCurrentOne() {
    ManagerFixture f = ManagerFixture.withPlaceholders();
    f.advance(5_000);
    assertThat(f.outbox.all()).isEmpty();

    f.receive(COORDINATOR, bootstrap(VERSION));
    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(nextTick(f)).containsExactly("cf1");

    NodeId next = NodeId.of("c2");
    f.receive(next, bootstrap(VERSION + 1));
    f.outbox.clear();
    f.advance(1_000);
    assertThat(f.outbox.all()).isNotEmpty().allSatisfy(s -> assertThat(s.to()).isEqualTo(next));
  }

  @Test
  void aTickWithNothingDueSendsNothing() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    assertThat(nextTick(f)).isEmpty();
    assertThat(f.outbox.all()).isEmpty();

    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(nextTick(f)).containsExactly("cf1");
    assertThat(nextTick(f)).isEmpty();
    assertThat(f.outbox.all()).isEmpty();
  }
}
