package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.bootstrap;
import static io.feedline.maintainer.manager.ManagerFixture.remove;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.maintainer.LogCapture;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerStatus;
import org.junit.jupiter.api.Test;

/** Which coordinator the manager obeys: the one with the highest election version it has seen. */
class CoordinatorFencingTest {

  private static final NodeId OTHER_COORDINATOR = NodeId.of("c2");

  @Test
  void bootstrapIsAnsweredWithTheVersionAndEveryLocalMaintainerIncludingStoppingAndStoppedOnes() {
    ManagerFixture f = ManagerFixture.withHandStoppedMaintainers();
    f.receive(COORDINATOR, bootstrap(VERSION));
    CoordinatorBootstrapResponse first = f.bootstrapResponses(COORDINATOR).get(0);
    assertThat(first.getElectionVersion()).isEqualTo(VERSION);
    assertThat(first.getStatusesList()).isEmpty();
    assertThat(first.getDrainTarget().getTargetNode()).isEmpty();

    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf2", 6));
    f.receive(COORDINATOR, add("cf3", 7));
    f.receive(COORDINATOR, remove("cf2", 6, false, false));
    f.receive(COORDINATOR, remove("cf3", 7, false, true));
    f.<HandStoppedMaintainer>maintainer(2).completeStop();
    f.scheduler.runDue();
    f.outbox.clear();

    // A duplicate bootstrap from the current coordinator is answered again.
    f.receive(COORDINATOR, bootstrap(VERSION));
    assertThat(f.bootstrapResponses(COORDINATOR)).singleElement().satisfies(r -> {
      assertThat(r.getElectionVersion()).isEqualTo(VERSION);
      assertThat(r.getStatusesList()).extracting(MaintainerStatus::getChangefeedId, MaintainerStatus::getState, MaintainerStatus::getEpoch)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("cf1", ComponentState.COMPONENT_STATE_WORKING, 5L),
              org.assertj.core.groups.Tuple.tuple("cf2", ComponentState.COMPONENT_STATE_WORKING, 6L),
              org.assertj.core.groups.Tuple.tuple("cf3", ComponentState.COMPONENT_STATE_REMOVED, 7L));
    });
  }

  @Test
  void aHigherVersionTakesOverAndTheOldCoordinatorIsNoLongerObeyed() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(OTHER_COORDINATOR, bootstrap(VERSION + 1));
    assertThat(f.bootstrapResponses(OTHER_COORDINATOR)).singleElement()
        .extracting(CoordinatorBootstrapResponse::getElectionVersion).isEqualTo(VERSION + 1);
    assertThat(f.manager.coordinator()).contains(OTHER_COORDINATOR);

    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(f.created).isEmpty();
    assertThat(f.fenceRejections("AddMaintainerRequest", "stale_epoch")).isEqualTo(1);

    f.receive(OTHER_COORDINATOR, add("cf1", 5).toBuilder().setElectionVersion(VERSION + 1).build());
    assertThat(f.created).hasSize(1);
  }

  @Test
  void aLowerVersionIsDroppedCountedAndLoggedOnceWithBothVersions() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    try (LogCapture logs = new LogCapture()) {
      f.receive(OTHER_COORDINATOR, bootstrap(VERSION - 1));
      f.receive(OTHER_COORDINATOR, bootstrap(VERSION - 1));

      assertThat(f.outbox.all()).isEmpty();
      assertThat(f.manager.coordinator()).contains(COORDINATOR);
      assertThat(f.fenceRejections("CoordinatorBootstrapRequest", "stale_epoch")).isEqualTo(2);
      assertThat(logs.linesContaining("CoordinatorBootstrapRequest")).singleElement().asString()
          .contains("sender_epoch=" + (VERSION - 1), "local_epoch=" + VERSION, "from=c2");
    }
  }

  @Test
  void theSameVersionFromAnotherNodeIsDropped() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(OTHER_COORDINATOR, bootstrap(VERSION));

    assertThat(f.outbox.all()).isEmpty();
    assertThat(f.manager.coordinator()).contains(COORDINATOR);
    assertThat(f.fenceRejections("CoordinatorBootstrapRequest", "wrong_owner")).isEqualTo(1);
  }

  @Test
  void addsAndRemovesAreObeyedOnlyFromExactlyTheCurrentCoordinator() {
    ManagerFixture f = ManagerFixture.withPlaceholders();
    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(f.fenceRejections("AddMaintainerRequest", "not_bootstrapped")).isEqualTo(1);

    f.receive(COORDINATOR, bootstrap(VERSION));
    f.receive(OTHER_COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf1", 5).toBuilder().setElectionVersion(VERSION - 1).build());
    f.receive(COORDINATOR, add("cf1", 5).toBuilder().setElectionVersion(VERSION + 1).build());
    assertThat(f.created).isEmpty();
    assertThat(f.fenceRejections("AddMaintainerRequest", "wrong_owner")).isEqualTo(1);
    assertThat(f.fenceRejections("AddMaintainerRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.fenceRejections("AddMaintainerRequest", "not_bootstrapped")).isEqualTo(2);

    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(OTHER_COORDINATOR, remove("cf1", 5, false, true));
    f.receive(COORDINATOR, remove("cf1", 5, false, true).toBuilder().setElectionVersion(VERSION - 1).build());
    assertThat(f.fenceRejections("RemoveMaintainerRequest", "wrong_owner")).isEqualTo(1);
    assertThat(f.fenceRejections("RemoveMaintainerRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.currentStatus("cf1").getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
  }
}
