package io.feedline.common.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.NodeLiveness;
import org.junit.jupiter.api.Test;

class NodeStateTest {

  @Test
  void startingUntilItServesThenAsItsLivenessSaysAndLeavingBeatsStarting() {
    assertThat(NodeState.of(false, NodeLiveness.NODE_LIVENESS_ALIVE).label()).isEqualTo("starting");
    assertThat(NodeState.of(true, NodeLiveness.NODE_LIVENESS_ALIVE).label()).isEqualTo("ready");
    assertThat(NodeState.of(true, NodeLiveness.NODE_LIVENESS_DRAINING).label()).isEqualTo("draining");
    assertThat(NodeState.of(false, NodeLiveness.NODE_LIVENESS_STOPPING).label()).as("a node that fenced itself while starting")
        .isEqualTo("stopping");
  }
}
