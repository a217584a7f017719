package io.feedline.coordinator.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.RunningError;
import org.junit.jupiter.api.Test;

class OperatorsTest {

  private static final NodeId ORIGIN = NodeId.of("origin");
  private static final NodeId DEST = NodeId.of("dest");

  private static MaintainerStatus status(ComponentState state, long epoch) {
    return MaintainerStatus.newBuilder().setChangefeedId("cf").setState(state).setEpoch(epoch).setBootstrapDone(true).build();
  }

  private static MoveMaintainer move() {
    return new MoveMaintainer(ORIGIN, 5, DEST, AddMaintainerRequest.newBuilder().setChangefeedId("cf").setEpoch(9).build());
  }

  @Test
  void aMoveAddsTheDestinationOnlyAfterTheOriginReportsItStopped() {
    MoveMaintainer op = move();
    assertThat(op.messages()).singleElement().satisfies(m -> {
      assertThat(m.to()).isEqualTo(ORIGIN);
      assertThat(((RemoveMaintainerRequest) m.payload()).getEpoch()).isEqualTo(5);
    });
    // Still starting is not stopped; a status at another epoch or from another node is not the origin's.
    op.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_INITIALIZING, 5));
    op.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_STOPPED, 4));
    op.onStatus(DEST, status(ComponentState.COMPONENT_STATE_STOPPED, 5));
    op.onStatus(ORIGIN, null);
    assertThat(op.originStopped()).isFalse();
    op.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_STOPPED, 5));
    assertThat(op.messages()).singleElement().satisfies(m -> {
      assertThat(m.to()).isEqualTo(DEST);
      assertThat(((AddMaintainerRequest) m.payload()).getEpoch()).isEqualTo(9);
    });
    op.onStatus(DEST, status(ComponentState.COMPONENT_STATE_WORKING, 9));
    assertThat(op.outcome()).contains(MaintainerOperator.Outcome.SUCCEEDED);
    assertThat(op.messages()).isEmpty();
  }

  @Test
  void aDestinationLostBeforeTheOriginStoppedEndsTheMoveOnlyOnceTheOriginStopped() {
    MoveMaintainer op = move();
    op.onNodeRemoved(DEST);
    assertThat(op.outcome()).isEmpty();
    assertThat(op.messages()).singleElement().satisfies(m -> assertThat(m.to()).isEqualTo(ORIGIN));
    op.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_STOPPED, 5));
    assertThat(op.outcome()).contains(MaintainerOperator.Outcome.DESTINATION_LOST);
  }

  @Test
  void anAddRejectedWithAnErrorCarriesTheReason() {
    AddMaintainer op = new AddMaintainer(DEST, AddMaintainerRequest.newBuilder().setChangefeedId("cf").setEpoch(3).build());
    op.onStatus(DEST, status(ComponentState.COMPONENT_STATE_STOPPED, 3).toBuilder()
        .addErrors(RunningError.newBuilder().setCode("invalid_add_request").setMessage("checkpoint 0")).build());
    assertThat(op.outcome()).contains(MaintainerOperator.Outcome.REJECTED);
    assertThat(op.error()).isEqualTo("checkpoint 0");
    op.onNodeRemoved(DEST);
    assertThat(op.outcome()).as("the first outcome stays").contains(MaintainerOperator.Outcome.REJECTED);
  }

  @Test
  void aStopSucceedsOnAStoppedOrRemovedStatusAtItsEpochAndReportsANodeLoss() {
    StopChangefeed stop = new StopChangefeed(ORIGIN, 1, ChangefeedId.of("cf"), 5, true);
    stop.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_WORKING, 5));
    stop.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_REMOVED, 4));
    assertThat(stop.outcome()).isEmpty();
    stop.onStatus(ORIGIN, status(ComponentState.COMPONENT_STATE_REMOVED, 5));
    assertThat(stop.outcome()).contains(MaintainerOperator.Outcome.SUCCEEDED);

    StopChangefeed lost = new StopChangefeed(ORIGIN, 1, ChangefeedId.of("cf"), 5, false);
    lost.onNodeRemoved(ORIGIN);
    assertThat(lost.outcome()).contains(MaintainerOperator.Outcome.NODE_LOST);
  }
}
