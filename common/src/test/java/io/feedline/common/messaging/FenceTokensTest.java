package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.FenceToken;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import org.junit.jupiter.api.Test;

class FenceTokensTest {

  @Test
  void aChangefeedsMessageCarriesItsChangefeedAndEpoch() {
    assertThat(FenceTokens.of(ScheduleDispatcherRequest.newBuilder().setChangefeedId("cf1").setEpoch(7).build()))
        .isEqualTo(FenceToken.newBuilder().setChangefeedId("cf1").setEpoch(7).build());
  }

  @Test
  void aCoordinatorsCommandAboutAChangefeedCarriesTheChangefeedsTokenAndItsVersionInThePayload() {
    AddMaintainerRequest add = AddMaintainerRequest.newBuilder().setElectionVersion(10).setChangefeedId("cf1").setEpoch(7).build();
    assertThat(FenceTokens.of(add)).as("the token's shape is the one nodes of the version before send")
        .isEqualTo(FenceToken.newBuilder().setChangefeedId("cf1").setEpoch(7).build());
    assertThat(FenceTokens.electionVersion(add)).as("fenced by coordinator too").isEqualTo(10);
  }

  @Test
  void aCoordinatorsCommandAboutNoChangefeedCarriesItsVersionAsTheRolesEpoch() {
    assertThat(FenceTokens.of(CoordinatorBootstrapRequest.newBuilder().setElectionVersion(10).build()))
        .isEqualTo(FenceToken.newBuilder().setEpoch(10).build());
    SetNodeLivenessRequest liveness = SetNodeLivenessRequest.newBuilder().setElectionVersion(10).setNodeEpoch(777).build();
    assertThat(FenceTokens.of(liveness)).isEqualTo(FenceToken.newBuilder().setEpoch(10).build());
    assertThat(FenceTokens.electionVersion(liveness)).isEqualTo(10);
    assertThat(FenceTokens.electionVersion(NodeHeartbeat.newBuilder().setNodeEpoch(777).build())).as("no version at all").isZero();
  }

  @Test
  void aNodesReportCarriesTheNodeEpochAndAMessageAboutManyChangefeedsNothing() {
    assertThat(FenceTokens.of(NodeHeartbeat.newBuilder().setNodeEpoch(777).build()))
        .isEqualTo(FenceToken.newBuilder().setEpoch(777).build());
    assertThat(FenceTokens.of(MaintainerHeartbeat.getDefaultInstance())).isEqualTo(FenceToken.getDefaultInstance());
  }
}
