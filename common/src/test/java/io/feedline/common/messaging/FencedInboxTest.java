package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.fence.Admission;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.FenceToken;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The single admission point: one test per rule (bootstrap, control, close, and compat epoch 0), each showing
 * what is admitted with which decision, that a rejected message is counted by type and reason and never reaches
 * its handler, and that only the handler moves the fence.
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
    return inbox.deliver(CF, Inbound.of(from, payload));
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
    assertThat(inbox.deliver(CF, forged)).isEqualTo("handled");
    assertThat(metrics.find("feedline.fence.rejections").tag("type", "HeartbeatResponse").counters()).isNotEmpty()
        .allSatisfy(c -> assertThat(c.count()).isZero());
  }
}
