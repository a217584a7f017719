package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.SELF;
import static io.feedline.maintainer.manager.ManagerFixture.TIMINGS;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static io.feedline.maintainer.manager.ManagerFixture.add;
import static io.feedline.maintainer.manager.ManagerFixture.bootstrap;
import static io.feedline.maintainer.manager.ManagerFixture.closeResponse;
import static io.feedline.maintainer.manager.ManagerFixture.remove;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.maintainer.DispatcherReplies;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerFactory;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.NodeHeartbeat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** The decisions alone, without a runtime: inputs in, effects out, nothing performed. */
class MaintainerManagerTest {

  private final List<HandStoppedMaintainer> created = new ArrayList<>();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final MaintainerManager manager = new MaintainerManager(SELF, TIMINGS, new MaintainerFactory() {
    @Override
    public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
      HandStoppedMaintainer m = new HandStoppedMaintainer(changefeed, epoch, checkpointTs);
      created.add(m);
      return m;
    }

    @Override
    public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
      return create(changefeed, epoch, ChangefeedInfo.getDefaultInstance(), 0, false);
    }
  }, metrics);

  private MaintainerManagerEffects handle(Message payload) {
    return receive(COORDINATOR, payload).orElseThrow();
  }

  private Optional<MaintainerManagerEffects> receive(NodeId from, Message payload) {
    return manager.onMessage(Inbound.of(from, payload), 0);
  }

  @Test
  void aBootstrapIsAnsweredToTheCoordinatorRoleFollowedByANodeHeartbeat() {
    MaintainerManagerEffects effects = handle(bootstrap(VERSION));
    assertThat(effects.messages()).allSatisfy(out -> {
      assertThat(out.to()).isEqualTo(COORDINATOR);
      assertThat(out.role()).isEqualTo(Role.COORDINATOR);
    });
    assertThat(effects.messages()).extracting(out -> out.payload().getDescriptorForType().getName())
        .containsExactly("CoordinatorBootstrapResponse", "NodeHeartbeat");
  }

  @Test
  void aReplacementIsAStopFirstAndTheStartOnlyWhenTheStopIsReportedDone() {
    handle(bootstrap(VERSION));
    MaintainerManagerEffects first = handle(add("cf1", 5));
    assertThat(first.starts()).containsExactly(created.get(0));
    assertThat(created.get(0).starts()).as("the manager decides, the runtime starts").isZero();

    MaintainerManagerEffects replace = handle(add("cf1", 6));
    assertThat(replace.starts()).isEmpty();
    assertThat(replace.stops()).containsExactly(new MaintainerManagerEffects.StopOrder(created.get(0), false, false));
    assertThat(created.get(0).stopCalls()).isEmpty();

    MaintainerManagerEffects stopped = manager.onMaintainerStopped(created.get(0), null, 100);
    assertThat(stopped.starts()).containsExactly(created.get(1));
    assertThat(created.get(1).epoch()).isEqualTo(6);
  }

  @Test
  void aRemoveOnlyMaintainerIsStartedAndStoppedWithCascadeAtOnce() {
    handle(bootstrap(VERSION));
    MaintainerManagerEffects effects = handle(remove("cf1", 7, true, true));

    Maintainer removeOnly = created.get(0);
    assertThat(effects.starts()).containsExactly(removeOnly);
    assertThat(effects.stops()).containsExactly(new MaintainerManagerEffects.StopOrder(removeOnly, true, true));
  }

  @Test
  void aStopThatFailsAnywayIsCountedAndTheDecisionAfterItStillHappens() {
    handle(bootstrap(VERSION));
    handle(add("cf1", 5));
    handle(remove("cf1", 5, false, true));

    manager.onMaintainerStopped(created.get(0), new IllegalStateException("boom"), 100);
    assertThat(metrics.counter("feedline.maintainer_manager.stop_failures").count()).isEqualTo(1);
    // A late completion of a maintainer the manager no longer holds changes nothing.
    assertThat(manager.onMaintainerStopped(created.get(0), null, 150)).isEqualTo(MaintainerManagerEffects.NONE);

    MaintainerManagerEffects tick = manager.onHeartbeatTick(200);
    assertThat(tick.messages()).singleElement().satisfies(out ->
        assertThat(((io.feedline.proto.MaintainerHeartbeat) out.payload()).getStatuses(0).getState())
            .isEqualTo(ComponentState.COMPONENT_STATE_REMOVED));
  }

  @Test
  void dispatcherSideMessagesGoToTheChangefeedsMaintainerAndOtherTypesAreNotHandled() {
    handle(bootstrap(VERSION));
    handle(add("cf1", 5));
    DispatcherHeartbeat heartbeat = DispatcherHeartbeat.newBuilder().setChangefeedId("cf1").setEpoch(5).build();

    assertThat(receive(ManagerFixture.N2, heartbeat)).contains(MaintainerManagerEffects.NONE);
    assertThat(receive(ManagerFixture.N2, closeResponse("cf1", true, 5))).contains(MaintainerManagerEffects.NONE);
    assertThat(receive(ManagerFixture.N2, closeResponse("unknown", true, 5))).contains(MaintainerManagerEffects.NONE);
    assertThat(receive(ManagerFixture.N2, closeResponse("", true, 5))).contains(MaintainerManagerEffects.NONE);
    assertThat(created.get(0).dispatcherMessages()).containsExactly(heartbeat, closeResponse("cf1", true, 5));

    assertThat(receive(ManagerFixture.N2, NodeHeartbeat.getDefaultInstance())).isEmpty();
  }

  /**
   * Every dispatcher-side type passes one door before any maintainer sees it, a remove-only one included:
   * only an answer at the maintainer's own epoch gets through; an older or newer one is counted and never seen.
   */
  @Test
  void everyDispatcherSideTypeReachesTheMaintainerOnlyAtItsEpochAndEachDropIsCounted() {
    handle(bootstrap(VERSION));
    handle(add("cf1", 5));
    handle(remove("cf2", 7, true, true)); // a remove-only maintainer
    List<LongFunction<Message>> types = List.of(
        epoch -> closeResponse("cf2", true, epoch),
        epoch -> MaintainerBootstrapResponse.newBuilder().setChangefeedId("cf2").setEpoch(epoch).build(),
        epoch -> MaintainerPostBootstrapResponse.newBuilder().setChangefeedId("cf2").setEpoch(epoch).build(),
        epoch -> DispatcherHeartbeat.newBuilder().setChangefeedId("cf2").setEpoch(epoch).build(),
        epoch -> BlockStatusRequest.newBuilder().setChangefeedId("cf2").setEpoch(epoch).build());
    assertThat(types).extracting(t -> t.apply(0).getDescriptorForType()).containsExactlyInAnyOrderElementsOf(
        DispatcherReplies.TYPES);
    HandStoppedMaintainer removeOnly = created.get(1);
    for (var type : types) {
      String name = type.apply(0).getDescriptorForType().getName();
      receive(ManagerFixture.N2, type.apply(6));
      receive(ManagerFixture.N2, type.apply(8));
      receive(ManagerFixture.N2, type.apply(7));
      List<Message> seen = removeOnly.dispatcherMessages();
      assertThat(seen.get(seen.size() - 1)).as(name).isEqualTo(type.apply(7));
      assertThat(metrics.get("feedline.fence.rejections").tags("role", "maintainer", "type", name, "reason", "stale_epoch").counter().count())
          .as(name).isEqualTo(1);
      assertThat(metrics.get("feedline.fence.rejections").tags("role", "maintainer", "type", name, "reason", "wrong_owner").counter().count())
          .as(name + ": an answer from a newer epoch is not this maintainer's either").isEqualTo(1);
    }
    assertThat(removeOnly.dispatcherMessages()).as("only the five at epoch 7").hasSize(5);
    assertThat(created.get(0).dispatcherMessages()).as("cf1's maintainer saw none of cf2's").isEmpty();
  }
}
