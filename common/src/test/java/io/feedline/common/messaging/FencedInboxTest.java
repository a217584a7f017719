package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.Message;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.FencedInbox.Rule;
import io.feedline.common.messaging.FencedInbox.Scope;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.FenceToken;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The single admission point: one test per rule (bootstrap, control, close, reply, and compat epoch 0), each showing
 * what is admitted with which decision, that a rejected message is counted by type and reason and never reaches
 * its handler, and that only the handler moves the fence; then a type checked in several scopes in order (a node's
 * coordinator, then the changefeed or the node's incarnation), as a node's maintainer manager registers them.
 */
class FencedInboxTest {

  private static final ChangefeedId CF = ChangefeedId.of("cf1");
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");

  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final Map<ChangefeedId, Fence> fences = new HashMap<>();
  private final List<FencedInbox.Admitted<?>> handled = new ArrayList<>();
  private final List<FencedInbox.Rejected<?>> answered = new ArrayList<>();
  private final FencedInbox<String> inbox = FencedInbox.<String>builder("test", metrics)
      .on(MaintainerBootstrapRequest.class, FencedInbox.Rule.BOOTSTRAP, this::keep)
      .on(ScheduleDispatcherRequest.class, FencedInbox.Rule.CONTROL, this::keep)
      .on(HeartbeatResponse.class, FencedInbox.Rule.CONTROL, a -> {
        handled.add(a); // a handler that acts without moving the fence
        return "handled";
      })
      .on(MaintainerCloseRequest.class, FencedInbox.Rule.CLOSE, this::keep, r -> {
        answered.add(r);
        return "answered";
      })
      .build(cf -> fences.getOrDefault(cf, Fence.INITIAL), "dropped");

  private String keep(FencedInbox.Admitted<?> admitted) {
    handled.add(admitted);
    fences.put(admitted.changefeed(), admitted.decision().next());
    return "handled";
  }

  private String deliver(NodeId from, Message payload) {
    return inbox.deliver(Inbound.of(from, payload));
  }

  private static MaintainerBootstrapRequest bootstrap(long epoch) {
    return MaintainerBootstrapRequest.newBuilder().setChangefeedId(CF.value()).setEpoch(epoch).build();
  }

  private static ScheduleDispatcherRequest schedule(long epoch) {
    return ScheduleDispatcherRequest.newBuilder().setChangefeedId(CF.value()).setEpoch(epoch).build();
  }

  private static MaintainerCloseRequest close(long epoch) {
    return MaintainerCloseRequest.newBuilder().setChangefeedId(CF.value()).setEpoch(epoch).build();
  }

  private double rejected(String type, Admission reason) {
    return metrics.get("feedline.fence.rejections").tags("role", "test", "type", type, "reason", reason.reason()).counter().count();
  }

  @Test
  void bootstrapANewerEpochTakesOverAnOlderOneIsStaleAndTheSameEpochOnlyFromItsOwner() {
    assertThat(deliver(N1, bootstrap(5))).isEqualTo("handled");
    assertThat(handled.get(0).decision().admission()).isEqualTo(Admission.TAKEOVER);
    assertThat(fences.get(CF).owner()).isEqualTo(N1);

    assertThat(deliver(N2, bootstrap(4))).isEqualTo("dropped");
    assertThat(deliver(N2, bootstrap(5))).isEqualTo("dropped");
    assertThat(handled).as("the handler saw neither").hasSize(1);
    assertThat(rejected("MaintainerBootstrapRequest", Admission.STALE_EPOCH)).isEqualTo(1);
    assertThat(rejected("MaintainerBootstrapRequest", Admission.WRONG_OWNER)).isEqualTo(1);

    assertThat(deliver(N1, bootstrap(5))).isEqualTo("handled");
    assertThat(handled.get(1).decision().admission()).isEqualTo(Admission.ACCEPT);
    assertThat(deliver(N2, bootstrap(6))).isEqualTo("handled");
    assertThat(fences.get(CF)).isEqualTo(new Fence(N2, 6, false, false, 0));
  }

  @Test
  void controlOnlyFromTheExactOwnerAtItsEpochAndTheDecisionMovesNothing() {
    assertThat(deliver(N1, schedule(5))).as("before any bootstrap").isEqualTo("dropped");
    assertThat(rejected("ScheduleDispatcherRequest", Admission.NOT_BOOTSTRAPPED)).isEqualTo(1);
    deliver(N1, bootstrap(5));
    Fence owned = fences.get(CF);

    assertThat(deliver(N1, schedule(4))).isEqualTo("dropped");
    assertThat(deliver(N2, schedule(5))).isEqualTo("dropped");
    assertThat(deliver(N1, schedule(6))).as("a newer epoch must bootstrap first").isEqualTo("dropped");
    assertThat(rejected("ScheduleDispatcherRequest", Admission.STALE_EPOCH)).isEqualTo(1);
    assertThat(rejected("ScheduleDispatcherRequest", Admission.WRONG_OWNER)).isEqualTo(1);
    assertThat(rejected("ScheduleDispatcherRequest", Admission.NOT_BOOTSTRAPPED)).isEqualTo(2);

    assertThat(deliver(N1, HeartbeatResponse.newBuilder().setChangefeedId(CF.value()).setEpoch(5).build())).isEqualTo("handled");
    assertThat(deliver(N1, schedule(5))).isEqualTo("handled");
    assertThat(handled).extracting(a -> a.payload().getClass().getSimpleName())
        .containsExactly("MaintainerBootstrapRequest", "HeartbeatResponse", "ScheduleDispatcherRequest");
    assertThat(fences.get(CF)).isEqualTo(owned);
  }

  @Test
  void closeFromTheOwnerOrANewerEpochLeavesATombstoneAndAnOlderOneIsAnsweredByTheHookNotTheHandler() {
    deliver(N1, bootstrap(5));
    assertThat(deliver(N2, close(4))).isEqualTo("answered");
    assertThat(answered).singleElement().satisfies(r -> {
      assertThat(r.admission()).isEqualTo(Admission.STALE_EPOCH);
      assertThat(r.epoch()).isEqualTo(4);
      assertThat(r.from()).isEqualTo(N2);
    });
    assertThat(rejected("MaintainerCloseRequest", Admission.STALE_EPOCH)).isEqualTo(1);

    assertThat(deliver(N2, close(7))).as("a newer ownership closes").isEqualTo("handled");
    assertThat(fences.get(CF).tombstoned()).isTrue();
    assertThat(deliver(N1, bootstrap(6))).as("a late bootstrap of a closed ownership").isEqualTo("dropped");
    assertThat(rejected("MaintainerBootstrapRequest", Admission.CLOSED)).isEqualTo(1);
  }

  @Test
  void epochZeroIsTakenFromTheCompatOwnerOnlyUntilAnEpochIsSeen() {
    assertThat(deliver(N1, bootstrap(0))).isEqualTo("handled");
    assertThat(deliver(N1, schedule(0))).isEqualTo("handled");
    deliver(N2, bootstrap(3));
    assertThat(deliver(N1, schedule(0))).isEqualTo("dropped");
    assertThat(deliver(N1, bootstrap(0))).isEqualTo("dropped");
    assertThat(rejected("ScheduleDispatcherRequest", Admission.COMPAT_ENDED)).isEqualTo(1);
    assertThat(rejected("MaintainerBootstrapRequest", Admission.COMPAT_ENDED)).isEqualTo(1);
  }

  @Test
  void theTokenNotThePayloadIsWhatAdmissionReadsAndEveryRegisteredTypeHasItsRowsAtZero() {
    deliver(N1, bootstrap(5));
    // A token that says 5 on a payload that says 4 (the bus refuses such an envelope; admission trusts its token).
    Inbound forged = new Inbound(N1, "ScheduleDispatcherRequest", schedule(4),
        FenceToken.newBuilder().setChangefeedId(CF.value()).setEpoch(5).build());
    assertThat(inbox.deliver(forged)).isEqualTo("handled");
    assertThat(metrics.find("feedline.fence.rejections").tag("type", "HeartbeatResponse").counters()).isNotEmpty()
        .allSatisfy(c -> assertThat(c.count()).isZero());
  }

  // ---- several checks in order ----

  private static final NodeId SELF = NodeId.of("self");
  private static final NodeId COORDINATOR = NodeId.of("c1");
  private static final NodeId OTHER_COORDINATOR = NodeId.of("c2");
  private static final long VERSION = 10;
  private static final long NODE_EPOCH = 777;

  /** The coordinator the node obeys. */
  private final Fence coordinator = Fence.INITIAL.admitBootstrap(COORDINATOR, VERSION).next();
  /** The changefeeds whose fence admission read, in order: none when an earlier check rejected. */
  private final List<ChangefeedId> consulted = new ArrayList<>();
  private final List<String> invalidIds = new ArrayList<>();
  private final FencedInbox<String> commands = FencedInbox.<String>builder("node", metrics)
      .on(AddMaintainerRequest.class)
          .check(Scope.of(() -> coordinator, in -> FenceTokens.electionVersion(in.payload())), Rule.CONTROL, this::answer)
          .check(Scope.changefeedAs(SELF), Rule.BOOTSTRAP)
          .onInvalidChangefeed((from, add) -> {
            invalidIds.add(add.getChangefeedId());
            return "invalid";
          })
          .then(this::keep)
      .on(SetNodeLivenessRequest.class)
          .check(Scope.of(() -> coordinator, in -> FenceTokens.electionVersion(in.payload())), Rule.CONTROL)
          .check(Scope.of(() -> Fence.ownedBy(SELF, NODE_EPOCH), in -> in.as(SetNodeLivenessRequest.class).getNodeEpoch()),
              Rule.REPLY, this::answer)
          .then(this::keep)
      .build(cf -> {
        consulted.add(cf);
        return fences.getOrDefault(cf, Fence.INITIAL);
      }, "dropped");

  private String answer(FencedInbox.Rejected<?> rejected) {
    answered.add(rejected);
    return "answered";
  }

  private static AddMaintainerRequest add(long version, String changefeed, long epoch) {
    return AddMaintainerRequest.newBuilder().setElectionVersion(version).setChangefeedId(changefeed).setEpoch(epoch).build();
  }

  private static SetNodeLivenessRequest liveness(long version, long nodeEpoch) {
    return SetNodeLivenessRequest.newBuilder().setElectionVersion(version).setNodeEpoch(nodeEpoch).build();
  }

  private double nodeRejections(String type, Admission reason) {
    return metrics.get("feedline.fence.rejections").tags("role", "node", "type", type, "reason", reason.reason()).counter().count();
  }

  private double allNodeRejections() {
    return metrics.find("feedline.fence.rejections").tag("role", "node").counters().stream().mapToDouble(Counter::count).sum();
  }

  @Test
  void theFirstCheckThatRejectsIsCountedOnceWithTheChangefeedAndNeitherTheNextCheckNorTheHandlerRuns() {
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(FenceRejections.class);
    logs.start();
    logger.addAppender(logs);
    try {
      assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION - 1, CF.value(), 5)))).isEqualTo("answered");
      assertThat(commands.deliver(Inbound.of(OTHER_COORDINATOR, add(VERSION, CF.value(), 5)))).isEqualTo("answered");
    } finally {
      logger.detachAppender(logs);
    }

    assertThat(nodeRejections("AddMaintainerRequest", Admission.STALE_EPOCH)).isEqualTo(1);
    assertThat(nodeRejections("AddMaintainerRequest", Admission.WRONG_OWNER)).isEqualTo(1);
    assertThat(allNodeRejections()).as("each counted once, by the check that rejected it").isEqualTo(2);
    assertThat(consulted).as("the changefeed's fence was never read").isEmpty();
    assertThat(handled).isEmpty();
    assertThat(answered).extracting(FencedInbox.Rejected::admission).containsExactly(Admission.STALE_EPOCH, Admission.WRONG_OWNER);
    assertThat(answered.get(0).epoch()).as("the epoch that check read: the election version").isEqualTo(VERSION - 1);
    assertThat(answered.get(0).changefeed()).isEqualTo(CF);
    assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage).first().asString()
        .contains("changefeed=cf1", "type=AddMaintainerRequest", "reason=stale_epoch", "from=c1", "sender_epoch=9", "local_epoch=10");
  }

  @Test
  void aMessageEveryCheckAdmitsReachesTheHandlerWithTheLastChecksDecisionAndALaterCheckRejectsOnItsOwn() {
    assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION, CF.value(), 5)))).isEqualTo("handled");
    assertThat(handled).singleElement().satisfies(a -> {
      assertThat(a.decision().admission()).as("the changefeed's decision, not the coordinator's ACCEPT").isEqualTo(Admission.TAKEOVER);
      assertThat(a.decision().next()).isEqualTo(new Fence(SELF, 5, false, false, 0));
      assertThat(a.epoch()).isEqualTo(5);
      assertThat(a.from()).isEqualTo(COORDINATOR);
      assertThat(a.changefeed()).isEqualTo(CF);
    });
    assertThat(consulted).containsExactly(CF);

    assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION, CF.value(), 4)))).as("the coordinator's hook is not this check's")
        .isEqualTo("dropped");
    assertThat(nodeRejections("AddMaintainerRequest", Admission.STALE_EPOCH)).isEqualTo(1);
    assertThat(answered).isEmpty();
    assertThat(handled).hasSize(1);
    assertThat(fences.get(CF).epoch()).isEqualTo(5);
  }

  @Test
  void replyAdmitsExactlyTheFencesOwnEpochWhoeverSendsIt() {
    assertThat(commands.deliver(Inbound.of(COORDINATOR, liveness(VERSION, NODE_EPOCH)))).isEqualTo("handled");
    assertThat(handled.get(0).decision()).isEqualTo(new Fence.Decision(Admission.ACCEPT, Fence.ownedBy(SELF, NODE_EPOCH)));

    assertThat(commands.deliver(Inbound.of(COORDINATOR, liveness(VERSION, NODE_EPOCH - 1)))).isEqualTo("answered");
    assertThat(commands.deliver(Inbound.of(COORDINATOR, liveness(VERSION, NODE_EPOCH + 1)))).isEqualTo("answered");
    assertThat(answered).extracting(FencedInbox.Rejected::admission).containsExactly(Admission.STALE_EPOCH, Admission.WRONG_OWNER);
    assertThat(answered).extracting(FencedInbox.Rejected::epoch).containsExactly(NODE_EPOCH - 1, NODE_EPOCH + 1);

    assertThat(commands.deliver(Inbound.of(COORDINATOR, liveness(VERSION - 1, NODE_EPOCH)))).as("refused by the coordinator check")
        .isEqualTo("dropped");
    assertThat(answered).hasSize(2);
    assertThat(handled).hasSize(1);
    assertThat(nodeRejections("SetNodeLivenessRequest", Admission.STALE_EPOCH)).isEqualTo(2);
  }

  @Test
  void anInvalidChangefeedGoesToItsHookOnlyOnceTheChecksBeforeTheChangefeedsAdmittedIt() {
    assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION - 1, "bad/id", 5)))).isEqualTo("answered");
    assertThat(nodeRejections("AddMaintainerRequest", Admission.STALE_EPOCH)).isEqualTo(1);
    assertThat(invalidIds).isEmpty();

    assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION, "bad/id", 5)))).isEqualTo("invalid");
    assertThat(commands.deliver(Inbound.of(COORDINATOR, add(VERSION, "", 5)))).isEqualTo("invalid");
    assertThat(invalidIds).containsExactly("bad/id", "");
    assertThat(allNodeRejections()).as("a malformed request is not a fence rejection").isEqualTo(1);
    assertThat(consulted).isEmpty();
    assertThat(handled).isEmpty();

    // A receiver without such a hook validates ids first (the orchestrator keys its lanes by them).
    assertThatThrownBy(() -> inbox.deliver(Inbound.of(N1, schedule(5).toBuilder().setChangefeedId("bad/id").build())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names no valid changefeed");
  }
}
