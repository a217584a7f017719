package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.SINK;
import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.testing.EnvelopeTypes;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rule of the DESIGN §3 fence, for every request type the orchestrator receives, end to end: the
 * fence state is built by real requests, then one request is delivered and either acted on (its own
 * visible effect) or dropped (counted by type and reason, fence and manager untouched).
 */
class OrchestratorFenceTest {

  private static final String CF = "cf1";
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final DispatcherKey TRIGGER = id(0x7);
  private static final DispatcherKey X = id(0x10);

  /** The fence before the request, established through the orchestrator itself. */
  enum State {
    FRESH,
    /** Bootstrapped by n1 at epoch 5. */
    OWNED,
    /** Bootstrapped by n1 at epoch 0: a sender that predates epochs. */
    COMPAT,
    /** Owned by n1 at 5, then closed by epoch 7: the manager is gone, the tombstone remains. */
    CLOSED
  }

  enum Type {
    BOOTSTRAP("MaintainerBootstrapRequest"),
    POST_BOOTSTRAP("MaintainerPostBootstrapRequest"),
    SCHEDULE("ScheduleDispatcherRequest"),
    MERGE("MergeDispatcherRequest"),
    HEARTBEAT_RESPONSE("HeartbeatResponse"),
    CLOSE("MaintainerCloseRequest");

    final String name;

    Type(String name) {
      this.name = name;
    }

    Message request(long epoch) {
      return switch (this) {
        case BOOTSTRAP -> Requests.bootstrap(CF, epoch, SINK, TRIGGER, null);
        case POST_BOOTSTRAP -> Requests.postBootstrap(CF, epoch, TRIGGER);
        case SCHEDULE -> Requests.create(CF, epoch, X, table(1));
        case MERGE -> Requests.merge(CF, epoch, id(0x20), id(0x21), id(0x22));
        case HEARTBEAT_RESPONSE -> Requests.heartbeatResponse(CF, epoch);
        case CLOSE -> Requests.close(CF, epoch);
      };
    }
  }

  private static Arguments row(Type type, State state, NodeId from, long epoch, Admission expected) {
    return Arguments.of(type, state, from, epoch, expected);
  }

  static Stream<Arguments> rules() {
    List<Arguments> rows = new ArrayList<>(List.of(
        row(Type.BOOTSTRAP, State.FRESH, N1, 5, Admission.TAKEOVER),
        row(Type.BOOTSTRAP, State.OWNED, N1, 5, Admission.ACCEPT),
        row(Type.BOOTSTRAP, State.OWNED, N2, 6, Admission.TAKEOVER),
        row(Type.BOOTSTRAP, State.OWNED, N1, 9, Admission.TAKEOVER),
        row(Type.BOOTSTRAP, State.OWNED, N2, 5, Admission.WRONG_OWNER),
        row(Type.BOOTSTRAP, State.OWNED, N1, 4, Admission.STALE_EPOCH),
        row(Type.BOOTSTRAP, State.OWNED, N1, 0, Admission.COMPAT_ENDED),
        row(Type.BOOTSTRAP, State.COMPAT, N1, 0, Admission.ACCEPT),
        row(Type.BOOTSTRAP, State.COMPAT, N2, 0, Admission.WRONG_OWNER),
        row(Type.BOOTSTRAP, State.COMPAT, N2, 3, Admission.TAKEOVER),
        row(Type.BOOTSTRAP, State.CLOSED, N1, 5, Admission.CLOSED),
        row(Type.BOOTSTRAP, State.CLOSED, N2, 7, Admission.CLOSED),
        row(Type.BOOTSTRAP, State.CLOSED, N1, 0, Admission.CLOSED),
        row(Type.BOOTSTRAP, State.CLOSED, N2, 8, Admission.TAKEOVER),

        row(Type.CLOSE, State.FRESH, N1, 5, Admission.TAKEOVER),
        row(Type.CLOSE, State.OWNED, N1, 5, Admission.ACCEPT),
        row(Type.CLOSE, State.OWNED, N2, 6, Admission.TAKEOVER),
        row(Type.CLOSE, State.OWNED, N1, 4, Admission.STALE_EPOCH),
        row(Type.CLOSE, State.OWNED, N2, 5, Admission.WRONG_OWNER),
        row(Type.CLOSE, State.OWNED, N1, 0, Admission.COMPAT_ENDED),
        row(Type.CLOSE, State.COMPAT, N1, 0, Admission.ACCEPT),
        row(Type.CLOSE, State.COMPAT, N2, 0, Admission.WRONG_OWNER),
        row(Type.CLOSE, State.COMPAT, N2, 4, Admission.TAKEOVER),
        row(Type.CLOSE, State.CLOSED, N2, 7, Admission.ACCEPT),
        row(Type.CLOSE, State.CLOSED, N1, 6, Admission.STALE_EPOCH)));
    for (Type control : List.of(Type.POST_BOOTSTRAP, Type.SCHEDULE, Type.MERGE, Type.HEARTBEAT_RESPONSE)) {
      rows.addAll(List.of(
          row(control, State.FRESH, N1, 5, Admission.NOT_BOOTSTRAPPED),
          row(control, State.OWNED, N1, 5, Admission.ACCEPT),
          row(control, State.OWNED, N2, 5, Admission.WRONG_OWNER),
          row(control, State.OWNED, N1, 4, Admission.STALE_EPOCH),
          row(control, State.OWNED, N2, 6, Admission.NOT_BOOTSTRAPPED),
          row(control, State.OWNED, N1, 0, Admission.COMPAT_ENDED),
          row(control, State.COMPAT, N1, 0, Admission.ACCEPT),
          row(control, State.COMPAT, N2, 0, Admission.WRONG_OWNER),
          row(control, State.COMPAT, N1, 3, Admission.NOT_BOOTSTRAPPED),
          row(control, State.CLOSED, N2, 7, Admission.CLOSED)));
    }
    return rows.stream();
  }

  private static void establish(OrchestratorFixture f, State state) {
    switch (state) {
      case FRESH -> {}
      case OWNED -> f.deliver(N1, Requests.bootstrap(CF, 5, SINK, TRIGGER, null));
      case COMPAT -> f.deliver(N1, Requests.bootstrap(CF, 0, SINK, TRIGGER, null));
      case CLOSED -> {
        f.deliver(N1, Requests.bootstrap(CF, 5, SINK, TRIGGER, null));
        f.deliver(N2, Requests.close(CF, 7));
        f.deliver(N2, Requests.close(CF, 7));
        assertThat(f.orchestrator.manager(ChangefeedId.of(CF))).isNull();
      }
    }
  }

  @ParameterizedTest(name = "{0} in {1} from {2} at epoch {3}: {4}")
  @MethodSource("rules")
  void fenceRule(Type type, State state, NodeId from, long epoch, Admission expected) {
    OrchestratorFixture f = new OrchestratorFixture();
    ChangefeedId cf = ChangefeedId.of(CF);
    establish(f, state);
    f.outbox.clear();
    Fence fenceBefore = f.orchestrator.fence(cf);
    ManagerRuntime managerBefore = f.orchestrator.manager(cf);
    double noticesBefore = f.notices(type.name);
    double rejectionsBefore = f.allRejections();

    assertThat(f.deliver(from, type.request(epoch)).succeeded()).isTrue();

    if (expected.accepted()) {
      assertThat(f.allRejections()).as("nothing rejected").isEqualTo(rejectionsBefore);
      assertActedOn(f, type, from, epoch, noticesBefore);
    } else {
      assertThat(f.rejections(type.name, expected.reason())).as("counted by type and reason").isEqualTo(1);
      assertThat(f.allRejections()).isEqualTo(rejectionsBefore + 1);
      assertThat(f.orchestrator.fence(cf)).as("a rejected message never moves the fence").isEqualTo(fenceBefore);
      assertThat(f.orchestrator.manager(cf)).isSameAs(managerBefore);
      if (managerBefore != null) {
        assertThat(managerBefore.closing()).isFalse();
        assertThat(managerBefore.manager().state(X)).isNull();
      }
      assertNotActedOn(f, type, from, epoch, expected, noticesBefore);
    }
    assertThat(f.orchestrator.busyChangefeeds()).as("no lane slot left behind").isZero();
  }

  private static void assertActedOn(OrchestratorFixture f, Type type, NodeId from, long epoch, double noticesBefore) {
    RecordingOutbox out = f.outbox;
    ChangefeedId cf = ChangefeedId.of(CF);
    switch (type) {
      case BOOTSTRAP -> {
        MaintainerBootstrapResponse r = out.last(MaintainerBootstrapResponse.class);
        assertThat(r.hasError()).isFalse();
        assertThat(r.getEpoch()).as("responses carry the manager's epoch").isEqualTo(epoch);
        assertThat(out.sentOf(MaintainerBootstrapResponse.class)).last().extracting(Outbound::to).isEqualTo(from);
        assertThat(f.orchestrator.fence(cf).owner()).isEqualTo(from);
        assertThat(f.orchestrator.manager(cf).manager().epoch()).isEqualTo(epoch);
      }
      case POST_BOOTSTRAP -> {
        MaintainerPostBootstrapResponse r = out.last(MaintainerPostBootstrapResponse.class);
        assertThat(r.hasError()).isFalse();
        assertThat(r.getEpoch()).isEqualTo(epoch);
      }
      case SCHEDULE -> assertThat(f.orchestrator.manager(cf).manager().state(X)).isNotNull();
      case MERGE, HEARTBEAT_RESPONSE -> assertThat(f.notices(type.name)).as("reached the manager").isEqualTo(noticesBefore + 1);
      case CLOSE -> {
        MaintainerCloseResponse r = out.last(MaintainerCloseResponse.class);
        assertThat(r.getEpoch()).isEqualTo(epoch);
        assertThat(out.sentOf(MaintainerCloseResponse.class)).last().extracting(Outbound::to).isEqualTo(from);
        ManagerRuntime m = f.orchestrator.manager(cf);
        // First close of a live manager: closing started, "not yet"; nothing to close: success.
        assertThat(r.getSuccess()).isEqualTo(m == null);
        assertThat(m == null || m.closing()).isTrue();
        assertThat(f.orchestrator.fence(cf).tombstoned()).isTrue();
        assertThat(f.orchestrator.fence(cf).closedEpoch()).isEqualTo(epoch);
      }
    }
  }

  private static void assertNotActedOn(OrchestratorFixture f, Type type, NodeId from, long epoch, Admission reason, double noticesBefore) {
    RecordingOutbox out = f.outbox;
    switch (type) {
      case BOOTSTRAP -> assertThat(out.of(MaintainerBootstrapResponse.class)).isEmpty();
      case POST_BOOTSTRAP -> assertThat(out.of(MaintainerPostBootstrapResponse.class)).isEmpty();
      case SCHEDULE -> {}
      case MERGE, HEARTBEAT_RESPONSE -> assertThat(f.notices(type.name)).isEqualTo(noticesBefore);
      case CLOSE -> {
        if (reason == Admission.STALE_EPOCH || reason == Admission.COMPAT_ENDED) {
          // Acknowledged with the sender's own epoch, so it stops retrying.
          MaintainerCloseResponse ack = out.last(MaintainerCloseResponse.class);
          assertThat(ack.getSuccess()).isTrue();
          assertThat(ack.getEpoch()).isEqualTo(epoch);
          assertThat(out.sentOf(MaintainerCloseResponse.class)).singleElement().extracting(Outbound::to).isEqualTo(from);
        } else {
          assertThat(out.of(MaintainerCloseResponse.class)).isEmpty();
        }
      }
    }
  }

  /** The rows above cover every request type of the envelope the orchestrator takes: its inbox admits no other. */
  @Test
  void everyTypeTheOrchestratorTakesHasItsRulesAbove() {
    OrchestratorFixture f = new OrchestratorFixture();
    List<String> taken = EnvelopeTypes.payloads().stream()
        .filter(f.orchestrator::handles).map(m -> m.getDescriptorForType().getName()).toList();
    assertThat(taken).containsExactlyInAnyOrderElementsOf(Stream.of(Type.values()).map(t -> t.name).toList());
  }
}
