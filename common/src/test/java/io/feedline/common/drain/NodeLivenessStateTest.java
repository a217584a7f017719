package io.feedline.common.drain;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.NodeLiveness;
import org.junit.jupiter.api.Test;

class NodeLivenessStateTest {

  private static final NodeLivenessState DRAINING = new NodeLivenessState(NodeLiveness.NODE_LIVENESS_DRAINING);
  private static final NodeLivenessState STOPPING = new NodeLivenessState(NodeLiveness.NODE_LIVENESS_STOPPING);

  @Test
  void movesForwardOnlyAndMaySkipDraining() {
    assertThat(NodeLivenessState.ALIVE.advanceTo(NodeLiveness.NODE_LIVENESS_DRAINING)).isEqualTo(DRAINING);
    assertThat(DRAINING.advanceTo(NodeLiveness.NODE_LIVENESS_STOPPING)).isEqualTo(STOPPING);
    assertThat(NodeLivenessState.ALIVE.advanceTo(NodeLiveness.NODE_LIVENESS_STOPPING)).isEqualTo(STOPPING);
  }

  @Test
  void neverMovesBackOrOnUnknownValues() {
    assertThat(STOPPING.advanceTo(NodeLiveness.NODE_LIVENESS_DRAINING)).isEqualTo(STOPPING);
    assertThat(STOPPING.advanceTo(NodeLiveness.NODE_LIVENESS_ALIVE)).isEqualTo(STOPPING);
    assertThat(DRAINING.advanceTo(NodeLiveness.NODE_LIVENESS_ALIVE)).isEqualTo(DRAINING);
    assertThat(DRAINING.advanceTo(NodeLiveness.NODE_LIVENESS_DRAINING)).isEqualTo(DRAINING);
    assertThat(DRAINING.advanceTo(NodeLiveness.UNRECOGNIZED)).isEqualTo(DRAINING);
  }

  @Test
  void onlyAliveIsSchedulable() {
    assertThat(NodeLivenessState.ALIVE.schedulable()).isTrue();
    assertThat(DRAINING.schedulable()).isFalse();
    assertThat(STOPPING.schedulable()).isFalse();
    assertThat(STOPPING.atLeast(NodeLiveness.NODE_LIVENESS_DRAINING)).isTrue();
    assertThat(DRAINING.label()).isEqualTo("DRAINING");
  }
}
