package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.SELF;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.config;
import static io.feedline.maintainer.manager.ManagerFixture.remove;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.maintainer.LogCapture;
import io.feedline.maintainer.Maintainer;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RunningError;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AddMaintainerTest {

  private static final String SECRET_SINK = "mysql://root:s3cret@db:3306/app?password=hunter2";

  static Stream<Arguments> invalidAdds() {
    AddMaintainerRequest valid = add("cf1", 5);
    return Stream.of(
        Arguments.of("unparsable_config", valid.toBuilder().setConfig(ByteString.copyFrom(new byte[] {0x0a, (byte) 0xff})).build(),
            "config is not a serialized ChangefeedInfo"),
        Arguments.of("changefeed_id_mismatch", valid.toBuilder().setConfig(config("cf2", "blackhole://")).build(),
            "config is for changefeed 'cf2', not 'cf1'"),
        Arguments.of("changefeed_id_mismatch", valid.toBuilder().setConfig(ByteString.EMPTY).build(),
            "config is for changefeed '', not 'cf1'"),
        Arguments.of("zero_checkpoint_ts", valid.toBuilder().setCheckpointTs(0).build(), "checkpoint_ts is 0"),
        Arguments.of("invalid_changefeed_id", valid.toBuilder().setChangefeedId("").build(), "changefeed id '' is invalid"),
        Arguments.of("invalid_changefeed_id", valid.toBuilder().setChangefeedId("bad/id\n").build(), "changefeed id 'bad/id?' is invalid"));
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("invalidAdds")
  void anInvalidAddIsAnsweredWithAnErrorStatusAndALaterValidAddStillWorks(String reason, AddMaintainerRequest invalid, String message) {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());

    f.receive(COORDINATOR, invalid);

    assertThat(f.created).isEmpty();
    assertThat(f.rejections("AddMaintainerRequest", reason)).isEqualTo(1);
    MaintainerStatus answer = f.heartbeats().get(0).getStatuses(0);
    assertThat(answer.getChangefeedId()).isEqualTo(invalid.getChangefeedId());
    assertThat(answer.getState()).isEqualTo(ComponentState.COMPONENT_STATE_STOPPED);
    assertThat(answer.getEpoch()).isEqualTo(5);
    assertThat(answer.getErrorsList()).singleElement().satisfies(error -> {
      assertThat(error.getNodeId()).isEqualTo(SELF.value());
      assertThat(error.getCode()).isEqualTo(MaintainerManager.INVALID_ADD_REQUEST);
      assertThat(error.getMessage()).contains(message);
    });

    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(f.created).singleElement().extracting(Maintainer::epoch).isEqualTo(5L);
    assertThat(f.currentStatus("cf1")).satisfies(s -> {
      assertThat(s.getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
      assertThat(s.getBootstrapDone()).isTrue();
      assertThat(s.getCheckpointTs()).isEqualTo(105);
      assertThat(s.getEpoch()).isEqualTo(5);
      assertThat(s.getErrorsList()).isEmpty();
    });
  }

  @Test
  void aRepeatedInvalidAddIsAnsweredEveryTimeButLoggedOnce() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    try (LogCapture logs = new LogCapture()) {
      f.receive(COORDINATOR, add("cf1", 5, 0));
      f.receive(COORDINATOR, add("cf1", 5, 0));

      assertThat(f.heartbeats()).hasSize(2);
      assertThat(f.rejections("AddMaintainerRequest", "zero_checkpoint_ts")).isEqualTo(2);
      assertThat(logs.linesContaining("event=request_rejected")).singleElement().asString()
          .contains("changefeed=cf1", "epoch=5", "reason=zero_checkpoint_ts");
    }
  }

  @Test
  void sinkSecretsNeverReachTheLogsOrTheErrorStatus() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    AddMaintainerRequest secretAdd = add("cf1", 5).toBuilder().setConfig(config("cf1", SECRET_SINK)).build();
    try (LogCapture logs = new LogCapture()) {
      f.receive(COORDINATOR, secretAdd.toBuilder().setCheckpointTs(0).build());
      f.receive(COORDINATOR, secretAdd.toBuilder().setConfig(config("cf2", SECRET_SINK)).build());
      f.receive(COORDINATOR, secretAdd);

      assertThat(f.created).hasSize(1);
      assertThat(logs.lines()).isNotEmpty().noneMatch(l -> l.contains("s3cret") || l.contains("hunter2"));
      assertThat(logs.linesContaining("mysql://root:***@db:3306/app?password=***")).hasSize(3);
      assertThat(AddCheck.of(secretAdd)).asString().contains("mysql://root:***@db").doesNotContain("s3cret", "hunter2");
      assertThat(f.heartbeats()).flatExtracting(MaintainerHeartbeat::getStatusesList)
          .flatExtracting(MaintainerStatus::getErrorsList).extracting(RunningError::getMessage)
          .hasSize(2).noneMatch(m -> m.contains("s3cret") || m.contains("hunter2"));
    }
  }

  @Test
  void anAddAtTheLocalEpochIsIdempotent() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());

    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, add("cf1", 5, 999));

    HandStoppedMaintainer only = f.maintainer(0);
    assertThat(f.created).containsExactly(only);
    assertThat(only.starts()).isEqualTo(1);
    assertThat(only.stopCalls()).isEmpty();
    assertThat(f.localMaintainersGauge()).isEqualTo(1);
  }

  @Test
  void aNewerAddReplacesTheLocalMaintainerOnlyAfterItHasFullyStopped() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));
    HandStoppedMaintainer old = f.maintainer(0);

    f.receive(COORDINATOR, add("cf1", 7));
    assertThat(old.stopCalls()).containsExactly(new HandStoppedMaintainer.StopCall(false, false));
    assertThat(f.created).containsExactly(old);

    // While the old one stops: a newer add only replaces the pending one, an older one is stale.
    f.receive(COORDINATOR, add("cf1", 8));
    f.receive(COORDINATOR, add("cf1", 6));
    f.advance(5_000);
    assertThat(f.created).containsExactly(old);
    assertThat(old.stopCalls()).hasSize(1);
    assertThat(f.fenceRejections("AddMaintainerRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.currentStatus("cf1").getEpoch()).isEqualTo(5);

    old.completeStop();
    assertThat(f.created).hasSize(1);
    f.scheduler.runDue();

    assertThat(f.created).hasSize(2);
    HandStoppedMaintainer replacement = f.maintainer(1);
    assertThat(replacement.epoch()).isEqualTo(8);
    assertThat(replacement.starts()).isEqualTo(1);
    assertThat(f.currentStatus("cf1")).satisfies(s -> {
      assertThat(s.getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
      assertThat(s.getEpoch()).isEqualTo(8);
      assertThat(s.getCheckpointTs()).isEqualTo(108);
    });
  }

  @Test
  void anOlderAddIsIgnoredAndCounted() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("cf1", 5));

    f.receive(COORDINATOR, add("cf1", 4));
    f.receive(COORDINATOR, add("cf1", 0));

    assertThat(f.created).hasSize(1);
    assertThat(f.<HandStoppedMaintainer>maintainer(0).stopCalls()).isEmpty();
    assertThat(f.fenceRejections("AddMaintainerRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.fenceRejections("AddMaintainerRequest", "compat_ended")).isEqualTo(1);
  }

  @Test
  void aDelayedAddOfAnOwnershipAlreadyRemovedDoesNotResurrectIt() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withPlaceholders());
    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, remove("cf1", 5, false, false));
    f.scheduler.runDue();

    f.receive(COORDINATOR, add("cf1", 5));
    assertThat(f.created).hasSize(1);
    assertThat(f.fenceRejections("AddMaintainerRequest", "closed")).isEqualTo(1);
    assertThat(f.currentStatus("cf1").getState()).isEqualTo(ComponentState.COMPONENT_STATE_STOPPED);

    // A newer ownership (resume) is a new maintainer.
    f.receive(COORDINATOR, add("cf1", 6));
    assertThat(f.created).hasSize(2);
    assertThat(f.currentStatus("cf1").getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
  }

  @Test
  void aChangefeedWhoseMaintainerIsSlowToStopDelaysNoOtherChangefeed() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, add("slow", 1));
    f.receive(COORDINATOR, add("slow", 2));
    f.receive(COORDINATOR, remove("slow", 2, false, true));

    f.receive(COORDINATOR, add("cf1", 5));
    f.receive(COORDINATOR, remove("cf1", 5, false, true));
    f.<HandStoppedMaintainer>maintainer(1).completeStop();
    f.scheduler.runDue();
    f.receive(COORDINATOR, add("cf2", 3));

    assertThat(f.currentStatus("cf1").getState()).isEqualTo(ComponentState.COMPONENT_STATE_REMOVED);
    assertThat(f.currentStatus("cf2").getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
    assertThat(f.currentStatus("slow").getEpoch()).isEqualTo(1);
    assertThat(f.localMaintainersGauge()).isEqualTo(2);
  }
}
