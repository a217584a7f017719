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
  void aCoordinatorsCommandAlsoCarriesTheElectionVersionItWasSentIn() {
    assertThat(FenceTokens.of(AddMaintainerRequest.newBuilder().setElectionVersion(10).setChangefeedId("cf1").setEpoch(7).build()))
        .as("fenced by coordinator and by changefeed")
        .isEqualTo(FenceToken.newBuilder().setChangefeedId("cf1").setEpoch(7).setElectionVersion(10).build());
    assertThat(FenceTokens.of(CoordinatorBootstrapRequest.newBuilder().setElectionVersion(10).build()))
        .as("about no changefeed: the version is also the role's epoch")
        .isEqualTo(FenceToken.newBuilder().setEpoch(10).setElectionVersion(10).build());
    assertThat(FenceTokens.of(SetNodeLivenessRequest.newBuilder().setElectionVersion(10).setNodeEpoch(777).build()))
        .isEqualTo(FenceToken.newBuilder().setEpoch(10).setElectionVersion(10).build());
  }

  @Test
  void aNodesReportCarriesTheNodeEpochAndAMessageAboutManyChangefeedsNothing() {
    assertThat(FenceTokens.of(NodeHeartbeat.newBuilder().setNodeEpoch(777).build()))
        .isEqualTo(FenceToken.newBuilder().setEpoch(777).build());
    assertThat(FenceTokens.of(MaintainerHeartbeat.getDefaultInstance())).isEqualTo(FenceToken.getDefaultInstance());
  }
}
