package io.feedline.maintainer.manager;

import static io.feedline.maintainer.manager.ManagerFixture.COORDINATOR;
import static io.feedline.maintainer.manager.ManagerFixture.N2;
import static io.feedline.maintainer.manager.ManagerFixture.NODE_EPOCH;
import static io.feedline.maintainer.manager.ManagerFixture.VERSION;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.testing.EnvelopeTypes;
import io.feedline.common.messaging.Role;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way a coordinator's command to a node can be fenced, for every type the maintainer manager's inbox takes,
 * end to end through the manager: the node is bootstrapped by {@link ManagerFixture#COORDINATOR} at
 * {@link ManagerFixture#VERSION} and runs cf1's maintainer at epoch 5, then one command that would act (replace or
 * stop that maintainer, drain the node, set a drain target, take the node over) is delivered and rejected: counted
 * once by type and reason, its handler never reached, nothing changed, and nothing sent but the answer a liveness
 * command for another incarnation of this node still gets.
 */
class ManagerFenceTest {

  private static final String CF = "cf1";
  private static final NodeId OTHER_COORDINATOR = NodeId.of("c2");
  private static final String ROLE = Role.MAINTAINER_MANAGER.segment();

  enum Type {
    BOOTSTRAP("CoordinatorBootstrapRequest", 0),
    DRAIN_TARGET("SetDispatcherDrainTargetRequest", 100),
    LIVENESS("SetNodeLivenessRequest", NODE_EPOCH),
    ADD("AddMaintainerRequest", 6),
    REMOVE("RemoveMaintainerRequest", 6);

    final String name;
    /** The epoch (changefeed epoch, node epoch, drain target epoch) at which the command would act. */
    final long acting;

    Type(String name, long acting) {
      this.name = name;
      this.acting = acting;
    }

    Message command(long version, long epoch) {
      return switch (this) {
        case BOOTSTRAP -> ManagerFixture.bootstrap(version);
        case DRAIN_TARGET -> SetDispatcherDrainTargetRequest.newBuilder().setElectionVersion(version)
            .setTarget(NodeDrainTarget.set(N2, epoch).toProto()).build();
        case LIVENESS -> SetNodeLivenessRequest.newBuilder().setElectionVersion(version).setTarget(NodeLiveness.NODE_LIVENESS_DRAINING)
            .setNodeEpoch(epoch).build();
        case ADD -> ManagerFixture.add(CF, epoch).toBuilder().setElectionVersion(version).build();
        case REMOVE -> ManagerFixture.remove(CF, epoch, true, true).toBuilder().setElectionVersion(version).build();
      };
    }
  }

  private static Arguments row(Type type, String how, NodeId from, long version, long epoch, Admission expected) {
    return Arguments.of(type, how, from, version, epoch, expected);
  }

  static Stream<Arguments> rejections() {
    List<Arguments> rows = new ArrayList<>();
    for (Type type : Type.values()) {
      rows.add(row(type, "from an older coordinator", COORDINATOR, VERSION - 1, type.acting, Admission.STALE_EPOCH));
      rows.add(row(type, "from another coordinator at the obeyed version", OTHER_COORDINATOR, VERSION, type.acting, Admission.WRONG_OWNER));
      if (type != Type.BOOTSTRAP) {
        rows.add(row(type, "from a newer coordinator before its bootstrap", OTHER_COORDINATOR, VERSION + 1, type.acting,
            Admission.NOT_BOOTSTRAPPED));
      }
    }
    rows.addAll(List.of(
        row(Type.ADD, "at an older changefeed epoch", COORDINATOR, VERSION, 4, Admission.STALE_EPOCH),
        row(Type.ADD, "at epoch 0 after epochs began", COORDINATOR, VERSION, 0, Admission.COMPAT_ENDED),
        row(Type.REMOVE, "at an older changefeed epoch", COORDINATOR, VERSION, 4, Admission.STALE_EPOCH),
        row(Type.REMOVE, "at epoch 0 after epochs began", COORDINATOR, VERSION, 0, Admission.COMPAT_ENDED),
        row(Type.LIVENESS, "for an older incarnation of this node", COORDINATOR, VERSION, NODE_EPOCH - 1, Admission.STALE_EPOCH),
        row(Type.LIVENESS, "for a newer incarnation of this node", COORDINATOR, VERSION, NODE_EPOCH + 1, Admission.WRONG_OWNER)));
    return rows.stream();
  }

  /** Bootstrapped by the coordinator, running cf1's maintainer at epoch 5, outbox cleared. */
  private static ManagerFixture established() {
    ManagerFixture f = ManagerFixture.bootstrapped(ManagerFixture.withHandStoppedMaintainers());
    f.receive(COORDINATOR, ManagerFixture.add(CF, 5));
    f.outbox.clear();
    return f;
  }

  private static double sum(ManagerFixture f, String name, String tag, String value) {
    return f.metrics.find(name).tag(tag, value).counters().stream().mapToDouble(Counter::count).sum();
  }

  @ParameterizedTest(name = "{0} {1}: {5}")
  @MethodSource("rejections")
  void aFencedCommandIsCountedAndChangesNothing(Type type, String how, NodeId from, long version, long epoch, Admission expected) {
    ManagerFixture f = established();
    ChangefeedId cf = ChangefeedId.of(CF);
    HandStoppedMaintainer running = f.maintainer(0);
    Fence fenceBefore = f.manager.fence(cf);
    Optional<NodeId> coordinatorBefore = f.manager.coordinator();
    Map<ChangefeedId, Long> runningBefore = f.manager.runningMaintainers();
    List<String> callsBefore = running.calls();
    double fenceRejectionsBefore = sum(f, "feedline.fence.rejections", "role", ROLE);

    assertThat(f.receive(from, type.command(version, epoch))).isTrue();

    assertThat(f.fenceRejections(type.name, expected.reason())).as("counted by type and reason").isEqualTo(1);
    assertThat(sum(f, "feedline.fence.rejections", "role", ROLE)).as("once").isEqualTo(fenceRejectionsBefore + 1);
    assertThat(f.metrics.find("feedline.maintainer_manager.rejections").counters()).as("not a malformed request").isEmpty();
    // Nothing the handlers decide moved: the coordinator obeyed, the changefeed's fence, the maintainers, the node.
    assertThat(f.manager.coordinator()).isEqualTo(coordinatorBefore);
    assertThat(f.manager.fence(cf)).isEqualTo(fenceBefore);
    assertThat(f.manager.runningMaintainers()).isEqualTo(runningBefore);
    assertThat(f.created).containsExactly(running);
    assertThat(running.stopCalls()).isEmpty();
    assertThat(running.calls()).as("no drain target given").isEqualTo(callsBefore);
    assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
    assertThat(f.manager.drainTarget()).isEqualTo(NodeDrainTarget.NONE);
    assertThat(f.metrics.find("feedline.maintainer_manager.drain_target_updates").counters()).as("the drain handler never ran").isEmpty();
    if (type == Type.LIVENESS && version == VERSION && from.equals(COORDINATOR)) {
      // Another incarnation's command from the obeyed coordinator is answered with what is true here.
      assertThat(f.outbox.of(COORDINATOR, Role.COORDINATOR, SetNodeLivenessResponse.class)).singleElement().satisfies(answer -> {
        assertThat(answer.getLiveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_ALIVE);
        assertThat(answer.getNodeEpoch()).isEqualTo(NODE_EPOCH);
      });
      assertThat(f.outbox.all()).extracting(out -> out.payload().getDescriptorForType().getName())
          .containsExactly("SetNodeLivenessResponse", "NodeHeartbeat");
    } else {
      assertThat(f.outbox.all()).as("nothing sent").isEmpty();
    }
  }

  /** The commands above, from the obeyed coordinator at its version and their acting epoch, are acted on. */
  @ParameterizedTest
  @EnumSource(Type.class)
  void theSameCommandFromTheObeyedCoordinatorIsActedOn(Type type) {
    ManagerFixture f = established();
    HandStoppedMaintainer running = f.maintainer(0);

    f.receive(COORDINATOR, type.command(VERSION, type.acting));

    assertThat(sum(f, "feedline.fence.rejections", "role", ROLE)).isZero();
    switch (type) {
      case BOOTSTRAP -> assertThat(f.bootstrapResponses(COORDINATOR)).hasSize(1);
      case DRAIN_TARGET -> assertThat(f.manager.drainTarget()).isEqualTo(NodeDrainTarget.set(N2, 100));
      case LIVENESS -> assertThat(f.manager.liveness()).isEqualTo(NodeLiveness.NODE_LIVENESS_DRAINING);
      case ADD -> assertThat(running.stopCalls()).as("replaced: stopped first")
          .containsExactly(new HandStoppedMaintainer.StopCall(false, false));
      case REMOVE -> assertThat(running.stopCalls()).containsExactly(new HandStoppedMaintainer.StopCall(true, true));
    }
  }

  /**
   * An add that is malformed (no checkpoint to start from) at a stale epoch of its changefeed is a fence rejection and
   * answered with nothing: the fence comes before the request's checks, so nothing is said at an epoch that is over.
   * At the current epoch the same request is answered with its error.
   */
  @Test
  void aMalformedAddAtAStaleEpochIsFencedBeforeItIsJudged() {
    ManagerFixture f = established();
    f.receive(COORDINATOR, ManagerFixture.add(CF, 4).toBuilder().setElectionVersion(VERSION).setCheckpointTs(0).build());
    assertThat(f.fenceRejections(Type.ADD.name, "stale_epoch")).isEqualTo(1);
    assertThat(f.rejections(Type.ADD.name, "zero_checkpoint_ts")).isZero();
    assertThat(f.outbox.all()).isEmpty();

    f.receive(COORDINATOR, ManagerFixture.add(CF, 7).toBuilder().setElectionVersion(VERSION).setCheckpointTs(0).build());
    assertThat(f.rejections(Type.ADD.name, "zero_checkpoint_ts")).isEqualTo(1);
    assertThat(f.heartbeats()).singleElement().satisfies(h -> assertThat(h.getStatuses(0).getErrors(0).getCode())
        .isEqualTo(MaintainerManager.INVALID_ADD_REQUEST));
  }

  /**
   * An add or remove naming no valid changefeed is fenced by coordinator first: an older coordinator's is a fence
   * rejection like any of its commands, the obeyed coordinator's a malformed request (an add's answered with an error).
   */
  @Test
  void anInvalidChangefeedIdIsJudgedOnlyInTheObeyedCoordinatorsCommands() {
    ManagerFixture f = established();
    for (Type type : List.of(Type.ADD, Type.REMOVE)) {
      Message stale = type.command(VERSION - 1, type.acting);
      Message current = type.command(VERSION, type.acting);
      FieldDescriptor id = stale.getDescriptorForType().findFieldByName("changefeed_id");

      f.outbox.clear();
      f.receive(COORDINATOR, stale.toBuilder().setField(id, "bad/id").build());
      assertThat(f.fenceRejections(type.name, "stale_epoch")).isEqualTo(1);
      assertThat(f.rejections(type.name, "invalid_changefeed_id")).isZero();
      assertThat(f.outbox.all()).isEmpty();

      f.receive(COORDINATOR, current.toBuilder().setField(id, "bad/id").build());
      assertThat(f.rejections(type.name, "invalid_changefeed_id")).isEqualTo(1);
      if (type == Type.ADD) {
        assertThat(f.heartbeats()).singleElement().satisfies(h -> assertThat(h.getStatuses(0).getErrors(0).getCode())
            .isEqualTo(MaintainerManager.INVALID_ADD_REQUEST));
      } else {
        assertThat(f.outbox.all()).isEmpty();
      }
    }
    assertThat(f.<HandStoppedMaintainer>maintainer(0).stopCalls()).isEmpty();
  }

  /** The rows above cover every command type of the envelope the manager fences, and each has its rows at 0 from the start. */
  @Test
  void everyTypeTheManagerFencesHasItsRulesAbove() {
    ManagerFixture f = ManagerFixture.withPlaceholders();
    List<String> fenced = EnvelopeTypes.payloads().stream()
        .filter(f.manager::fences).map(m -> m.getDescriptorForType().getName()).toList();
    assertThat(fenced).containsExactlyInAnyOrderElementsOf(Stream.of(Type.values()).map(t -> t.name).toList());
    for (Type type : Type.values()) {
      assertThat(f.metrics.find("feedline.fence.rejections").tags("role", ROLE, "type", type.name).counters()).as(type.name)
          .isNotEmpty().allSatisfy(c -> assertThat(c.count()).isZero());
    }
  }
}
