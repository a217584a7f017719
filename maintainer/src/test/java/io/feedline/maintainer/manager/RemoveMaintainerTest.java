package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.N2;
import static io.feedline.maintainer.manager.ManagerFixture.N3;
import static io.feedline.maintainer.manager.ManagerFixture.SELF;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.bootstrap;
import static io.feedline.maintainer.manager.ManagerFixture.closeResponse;
import static io.feedline.maintainer.manager.ManagerFixture.remove;
import static io.feedline.maintainer.manager.ManagerFixture.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.maintainer.LogCapture;
import io.feedline.maintainer.RemoveOnlyMaintainer;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class RemoveMaintainerTest {

  private static final ComponentState WORKING = ComponentState.COMPONENT_STATE_WORKING;
  private static final ComponentState STOPPED = ComponentState.COMPONENT_STATE_STOPPED;
  private static final ComponentState REMOVED = ComponentState.COMPONENT_STATE_REMOVED;

  private static MaintainerCloseRequest closeRequest(String changefeed, boolean removed, long epoch) {
    return MaintainerCloseRequest.newBuilder().setChangefeedId(changefeed).setRemoved(removed).setEpoch(epoch).build();
  }

  @Test
  void aCascadingRemoveClosesDispatcherManagersOnEveryMemberResendingUntilEachConfirms() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, add("cf1", 5));

    f.receive(COORDINATOR, remove("cf1", 5, true, true));
    for (NodeId node : List.of(SELF, N2, N3)) {
      assertThat(f.closeRequests(node)).containsExactly(closeRequest("cf1", true, 5));
    }
    f.receive(SELF, closeResponse("cf1", true, 5));
    f.receive(N2, closeResponse("cf1", false, 5)); // still closing: ask again
    // n3's answer is lost.

    f.advance(500);
    assertThat(f.closeRequests(SELF)).hasSize(1);
    assertThat(f.closeRequests(N2)).hasSize(2);
    assertThat(f.closeRequests(N3)).hasSize(2);
    assertThat(f.reported("cf1")).isNotEmpty().allMatch(state(WORKING, 5));

    f.receive(N2, closeResponse("cf1", true, 4)); // an answer to an older close says nothing about this one
    f.advance(500);
    assertThat(f.closeRequests(N2)).hasSize(3);

    f.receive(N2, closeResponse("cf1", true, 5));
    f.receive(N3, closeResponse("cf1", true, 5));
    f.outbox.clear();
    f.advance(200);
    assertThat(f.reported("cf1")).singleElement().satisfies(s -> {
      assertThat(s.getState()).isEqualTo(REMOVED);
      assertThat(s.getEpoch()).isEqualTo(5);
      assertThat(s.getCheckpointTs()).isEqualTo(105);
    });
    f.advance(2_000);
    assertThat(f.outbox.of(io.feedline.common.messaging.Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.class)).isEmpty();
    assertThat(f.localMaintainersGauge()).isZero();
  }

  @Test
  void aMemberThatLeavesWhileClosingCountsAsClosed() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, remove("cf1", 5, true, false));
    f.receive(SELF, closeResponse("cf1", true, 5));
    f.receive(N2, closeResponse("cf1", true, 5));

    f.liveNodes.remove(N3);
    f.advance(500);

    assertThat(f.currentStatus("cf1")).matches(state(STOPPED, 5));
    assertThat(f.closeRequests(N3)).isEmpty();
  }

  @Test
  void withNoLocalMaintainerACascadingRemoveStartsARemoveOnlyMaintainerAtTheRequestEpoch() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(COORDINATOR, remove("cf9", 7, true, false));

    assertThat(f.created).singleElement().isInstanceOf(RemoveOnlyMaintainer.class);
    for (NodeId node : List.of(SELF, N2, N3)) {
      assertThat(f.closeRequests(node)).containsExactly(closeRequest("cf9", false, 7));
    }
    // Not done yet: never report a confirmation before the dispatcher managers are closed.
    f.advance(200);
    assertThat(f.reported("cf9")).singleElement().matches(state(WORKING, 7));

    for (NodeId node : List.of(SELF, N2, N3)) {
      f.receive(node, closeResponse("cf9", true, 7));
    }
    f.scheduler.runDue();
    assertThat(f.currentStatus("cf9")).matches(state(STOPPED, 7));
  }

  @Test
  void withNoLocalMaintainerANonCascadingRemoveIsConfirmedAtOnce() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(COORDINATOR, remove("cf1", 3, false, true));
    f.advance(200);

    assertThat(f.created).isEmpty();
    assertThat(f.reported("cf1")).singleElement().matches(state(REMOVED, 3));
    assertThat(f.outbox.of(io.feedline.common.messaging.Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.class)).isEmpty();
  }

  @Test
  void aRemoveWaitsForTheMaintainerToStopAndIsConfirmedWithTheRequestEpoch() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    HandStoppedMaintainer m = f.maintainer(0);

    f.receive(COORDINATOR, remove("cf1", 6, false, false));
    assertThat(m.stopCalls()).containsExactly(new HandStoppedMaintainer.StopCall(false, false));
    assertThat(f.currentStatus("cf1")).matches(state(WORKING, 5));

    m.completeStop();
    f.scheduler.runDue();
    assertThat(f.currentStatus("cf1")).matches(state(STOPPED, 6)).extracting(MaintainerStatus::getCheckpointTs).isEqualTo(105L);
  }

  @Test
  void theConfirmationIsReportedForTwoForceIntervalsWithTheRequestEpochThenForgotten() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, add("cf1", 5));
    f.advance(300); // t=300: between two heartbeats
    f.receive(COORDINATOR, remove("cf1", 5, false, true));
    f.scheduler.runDue();
    f.outbox.clear();

    // Heartbeats tick at multiples of 200 ms: step from one tick to the next, removed at t=300.
    f.advance(100);
    List<Long> reportedAt = new java.util.ArrayList<>();
    for (int tick = 0; tick < 25; tick++) {
      if (!f.reported("cf1").isEmpty()) {
        assertThat(f.reported("cf1")).singleElement().matches(state(REMOVED, 5));
        reportedAt.add(f.scheduler.nowMillis());
        f.outbox.clear();
      }
      f.advance(200);
    }

    assertThat(reportedAt).containsExactly(400L, 1400L, 2400L);
    f.receive(COORDINATOR, bootstrap(VERSION));
    assertThat(f.bootstrapResponses(COORDINATOR)).singleElement().satisfies(r -> assertThat(r.getStatusesList()).isEmpty());
  }

  @Test
  void aRepeatedRemoveIsConfirmedAgainWhileRememberedAndAfterwards() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, remove("cf1", 5, true, true));
    for (NodeId node : List.of(SELF, N2, N3)) {
      f.receive(node, closeResponse("cf1", true, 5));
    }
    f.advance(200);
    f.outbox.clear();

    // Remembered: confirmed at the next heartbeat, without closing anything again.
    f.receive(COORDINATOR, remove("cf1", 5, true, true));
    f.advance(200);
    assertThat(f.reported("cf1")).singleElement().matches(state(REMOVED, 5));
    assertThat(f.closeRequests(N2)).isEmpty();
    assertThat(f.created).hasSize(1);

    // Forgotten: a non-cascading repeat is confirmed at once; a cascading one closes again at that epoch.
    f.advance(3_000);
    f.outbox.clear();
    f.receive(COORDINATOR, remove("cf1", 5, false, true));
    f.advance(200);
    assertThat(f.reported("cf1")).singleElement().matches(state(REMOVED, 5));
    assertThat(f.created).hasSize(1);

    f.receive(COORDINATOR, remove("cf1", 5, true, true));
    assertThat(f.created).hasSize(2);
    assertThat(f.created.get(1)).isInstanceOf(RemoveOnlyMaintainer.class);
    assertThat(f.closeRequests(N2)).containsExactly(closeRequest("cf1", true, 5));
  }

  @Test
  void resentRemovesWhileStoppingChangeNothingAndAreNotLoggedAgain() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    try (LogCapture logs = new LogCapture()) {
      for (int resend = 0; resend < 3; resend++) {
        f.receive(COORDINATOR, remove("cf1", 5, false, true));
      }
      assertThat(f.<HandStoppedMaintainer>maintainer(0).stopCalls()).hasSize(1);
      assertThat(logs.lines()).singleElement().asString().contains("event=maintainer_stopping", "changefeed=cf1", "epoch=5");
    }
  }

  @Test
  void anOlderRemoveIsIgnoredAndCounted() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));

    f.receive(COORDINATOR, remove("cf1", 4, true, true));

    assertThat(f.<HandStoppedMaintainer>maintainer(0).stopCalls()).isEmpty();
    assertThat(f.fenceRejections("RemoveMaintainerRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.currentStatus("cf1")).matches(state(WORKING, 5));
  }

  @Test
  void aRemoveAtThePendingAddsEpochCancelsItAndStillClosesTheDispatcherManagers() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf1", 7)); // the old maintainer stops without cascade
    f.receive(COORDINATOR, remove("cf1", 6, true, true));
    assertThat(f.fenceRejections("RemoveMaintainerRequest", "stale_epoch")).isEqualTo(1);

    f.receive(COORDINATOR, remove("cf1", 7, true, true));
    f.<HandStoppedMaintainer>maintainer(0).completeStop();
    f.scheduler.runDue();

    assertThat(f.created).hasSize(2);
    assertThat(f.created.get(1)).isInstanceOf(RemoveOnlyMaintainer.class);
    assertThat(f.closeRequests(N2)).containsExactly(closeRequest("cf1", true, 7));
    for (NodeId node : List.of(SELF, N2, N3)) {
      f.receive(node, closeResponse("cf1", true, 7));
    }
    f.scheduler.runDue();
    assertThat(f.currentStatus("cf1")).matches(state(REMOVED, 7)).extracting(MaintainerStatus::getCheckpointTs).isEqualTo(105L);
  }

  @Test
  void aRemoveWithoutAValidChangefeedIdIsCountedAndNothingElse() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(COORDINATOR, remove("", 5, true, true));
    f.receive(COORDINATOR, remove("x".repeat(500), 5, true, true));
    f.advance(1_000);

    assertThat(f.rejections("RemoveMaintainerRequest", "invalid_changefeed_id")).isEqualTo(2);
    assertThat(f.created).isEmpty();
    assertThat(f.outbox.all()).isEmpty();
  }
}
