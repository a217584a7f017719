package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.A;
import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static io.feedline.maintainer.changefeed.MaintainerHarness.C;
import static io.feedline.maintainer.changefeed.MaintainerHarness.EPOCH;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.OperatorType;
import io.feedline.proto.RunningError;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BootstrapTest {

  private static TableSpan t(long id) {
    return TableSpans.wholeTable(id);
  }

  private static Set<NodeId> bootstrapTargets(List<Outbound> out) {
    return out.stream().filter(o -> o.payload() instanceof MaintainerBootstrapRequest).map(Outbound::to).collect(Collectors.toSet());
  }

  @Test
  void asksEveryLiveNodeResendsToTheSilentOnesAndCountsOnlyRepliesAtItsEpoch() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    List<Outbound> first = h.tickOnly();
    assertThat(bootstrapTargets(first)).containsExactlyInAnyOrder(A, B, C);
    assertThat(h.sentOf(MaintainerBootstrapRequest.class)).allSatisfy(r -> {
      assertThat(r.getEpoch()).isEqualTo(EPOCH);
      assertThat(r.getStartTs()).isEqualTo(100);
      assertThat(r.hasTableTriggerEventDispatcherId()).isFalse();
      assertThat(r.getAcceptsPartialHeartbeats()).as("this maintainer reads partial heartbeats").isTrue();
    });
    h.receive(A, h.side.answer(A, first.get(0).payload()));
    h.receive(B, h.side.answer(B, first.get(0).payload()));
    // C answers, but for an older ownership: it does not count.
    h.receive(C, MaintainerBootstrapResponse.newBuilder().setChangefeedId("cf1").setEpoch(EPOCH - 1).build());
    assertThat(h.rejections("stale_epoch")).isEqualTo(1);

    assertThat(bootstrapTargets(h.tickOnly())).as("within the resend interval").isEmpty();
    for (int i = 0; i < 3; i++) {
      h.tickOnly();
    }
    assertThat(bootstrapTargets(h.tickOnly())).as("resent only to the node that has not answered").containsExactly(C);
    assertThat(h.maintainer.status().getState()).isEqualTo(ComponentState.COMPONENT_STATE_INITIALIZING);
    assertThat(h.maintainer.status().getBootstrapDone()).isFalse();
  }

  @Test
  void reportsWorkingOnlyAfterTheTriggerIsCreatedOnItsOwnNodeAndPostBootstrapIsAnswered() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    h.side.tables.addAll(List.of(1L, 2L, 3L));
    h.deliver(h.tickOnly()); // snapshots from all three
    List<Outbound> create = h.tickOnly();
    assertThat(create).hasSize(1);
    assertThat(create.get(0).to()).isEqualTo(A);
    MaintainerBootstrapRequest own = (MaintainerBootstrapRequest) create.get(0).payload();
    assertThat(own.hasTableTriggerEventDispatcherId()).isTrue();
    DispatcherKey trigger = DispatcherKey.of(own.getTableTriggerEventDispatcherId());
    h.deliver(create);
    assertThat(h.maintainer.spans().size()).isEqualTo(3);
    assertThat(h.maintainer.working()).isFalse();

    // Right after the rebuild every node is asked, once, for a complete heartbeat: the ones set aside
    // before it may have carried a dispatcher's one Stopped report.
    List<Outbound> round = h.tickOnly();
    List<Outbound> askedComplete = round.stream().filter(o -> o.payload() instanceof HeartbeatResponse).toList();
    assertThat(askedComplete).extracting(Outbound::to).containsExactlyInAnyOrder(A, B, C);
    assertThat(askedComplete).extracting(o -> ((HeartbeatResponse) o.payload()).getSendComplete()).containsOnly(true);
    // Post-bootstrap is resent until answered; only then is the maintainer working.
    List<Outbound> post = round.stream().filter(o -> !(o.payload() instanceof HeartbeatResponse)).toList();
    assertThat(post).extracting(Outbound::payload).hasOnlyElementsOfType(MaintainerPostBootstrapRequest.class);
    MaintainerPostBootstrapRequest request = (MaintainerPostBootstrapRequest) post.get(0).payload();
    assertThat(request.getEpoch()).isEqualTo(EPOCH);
    assertThat(request.getSchemas(0).getTablesCount()).isEqualTo(3);
    assertThat(h.maintainer.status().getBootstrapDone()).isFalse();
    // A reply for a previous ownership is fenced.
    h.receive(A, MaintainerPostBootstrapResponse.newBuilder().setChangefeedId("cf1").setTableTriggerEventDispatcherId(trigger.proto())
        .setEpoch(EPOCH - 1).build());
    assertThat(h.maintainer.working()).isFalse();
    h.deliver(post);
    assertThat(h.tickOnly()).as("asked once").noneMatch(o -> o.payload() instanceof HeartbeatResponse);
    assertThat(h.maintainer.working()).isTrue();
    assertThat(h.maintainer.status().getState()).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
    assertThat(h.maintainer.status().getBootstrapDone()).isTrue();

    h.settle();
    for (long table = 1; table <= 3; table++) {
      assertThat(h.side.liveFor(t(table))).hasSize(1);
    }
    assertThat(h.sentOf(ScheduleDispatcherRequest.class)).allSatisfy(r -> assertThat(r.getEpoch()).isEqualTo(EPOCH));
  }

  @Test
  void aNodeThatJoinsDuringBootstrapIsBootstrappedToo() {
    MaintainerHarness h = new MaintainerHarness(100, 10_000, A, B);
    h.side.tables.add(1L);
    h.deliver(h.tickOnly());
    h.side.nodes.put(C, new FakeDispatcherSide.Node());
    h.live.add(C);
    List<Outbound> next = h.tickOnly();
    assertThat(bootstrapTargets(next)).contains(C);
    h.deliver(next);
    h.settle();
    assertThat(h.side.node(C).epoch).isEqualTo(EPOCH);
  }

  @Test
  void adoptsTheTriggerOnItsOwnNodeAndStopsAnotherNodesTriggerBeforeCreatingNothingNew() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    DispatcherKey ownOld = new DispatcherKey(1, 1);
    DispatcherKey remoteOld = new DispatcherKey(2, 2);
    h.side.place(A, ownOld, TableSpan.getDefaultInstance(), ComponentState.COMPONENT_STATE_WORKING, 150);
    h.side.node(A).trigger = ownOld;
    h.side.place(B, remoteOld, TableSpan.getDefaultInstance(), ComponentState.COMPONENT_STATE_WORKING, 140);
    h.side.node(B).trigger = remoteOld;

    h.deliver(h.tickOnly());
    List<Outbound> next = h.tickOnly();
    // The other node's trigger is removed first; this node is not asked to set up a trigger meanwhile.
    assertThat(next).extracting(Outbound::payload).noneMatch(p -> p instanceof MaintainerBootstrapRequest);
    DispatcherSchedule remove = ((ScheduleDispatcherRequest) next.stream().filter(o -> o.to().equals(B)).findFirst().orElseThrow().payload())
        .getItems(0);
    assertThat(DispatcherKey.of(remove.getId())).isEqualTo(remoteOld);
    assertThat(remove.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_REMOVE);
    h.deliver(next);
    h.heartbeats(); // B reports its trigger stopped
    List<Outbound> create = h.tickOnly();
    MaintainerBootstrapRequest own = create.stream().map(Outbound::payload).filter(MaintainerBootstrapRequest.class::isInstance)
        .map(MaintainerBootstrapRequest.class::cast).findFirst().orElseThrow();
    assertThat(DispatcherKey.of(own.getTableTriggerEventDispatcherId())).as("the trigger already on this node is adopted").isEqualTo(ownOld);
    h.deliver(create);
    h.settle();
    assertThat(h.maintainer.trigger()).isEqualTo(ownOld);
    assertThat(h.side.liveFor(TableSpan.getDefaultInstance())).containsExactly(ownOld);
  }

  @Test
  void aTriggerMismatchIsLearnedAgainInsteadOfRetriedForever() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    h.deliver(h.tickOnly());
    List<Outbound> create = h.tickOnly();
    // Meanwhile another trigger appeared on this node (its manager changed since the snapshot).
    DispatcherKey appeared = new DispatcherKey(9, 9);
    h.side.place(A, appeared, TableSpan.getDefaultInstance(), ComponentState.COMPONENT_STATE_WORKING, 100);
    h.side.node(A).trigger = appeared;
    h.receive(A, MaintainerBootstrapResponse.newBuilder().setChangefeedId("cf1").setEpoch(EPOCH)
        .setError(RunningError.newBuilder().setCode("trigger_mismatch")).build());
    assertThat(create).isNotEmpty();
    h.settle();
    assertThat(h.maintainer.trigger()).isEqualTo(appeared);
    assertThat(h.maintainer.working()).isTrue();
  }

  @Test
  void rebuildsSpansFromSnapshotsAndJournals() {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    h.side.tables.addAll(List.of(1L, 2L, 3L, 4L));
    DispatcherKey t1 = new DispatcherKey(0, 11);
    DispatcherKey t1Duplicate = new DispatcherKey(0, 12);
    DispatcherKey t2Initializing = new DispatcherKey(0, 21);
    DispatcherKey t3Moving = new DispatcherKey(0, 31);
    DispatcherKey t5Dropped = new DispatcherKey(0, 51);
    h.side.place(B, t1, t(1), ComponentState.COMPONENT_STATE_WORKING, 180);
    h.side.place(C, t1Duplicate, t(1), ComponentState.COMPONENT_STATE_INITIALIZING, 120);
    h.side.place(C, t2Initializing, t(2), ComponentState.COMPONENT_STATE_INITIALIZING, 150);
    h.side.place(C, t3Moving, t(3), ComponentState.COMPONENT_STATE_WORKING, 160);
    h.side.journalRemove(C, t3Moving, t(3), OperatorType.OPERATOR_TYPE_MOVE, EPOCH - 1);
    // Table 5 was dropped at 100, where the trigger resumes: its dispatcher stopped just below the DROP.
    h.side.place(B, t5Dropped, t(5), ComponentState.COMPONENT_STATE_WORKING, 99);
    // Table 4's dispatcher was on a node that is gone: nothing reports it.

    h.deliver(h.tickOnly());
    h.deliver(h.tickOnly());
    var spans = h.maintainer.spans();
    assertThat(spans.get(t(1)).dispatcher()).isEqualTo(t1);
    assertThat(spans.get(t(1)).checkpointTs()).isEqualTo(180);
    assertThat(spans.get(t(2)).dispatcher()).isEqualTo(t2Initializing);
    assertThat(h.maintainer.operators().of(t(2))).isNotNull();
    assertThat(h.maintainer.operators().of(t(3))).as("the interrupted move's remove is restored").isNotNull();
    assertThat(spans.get(t(4)).absent()).isTrue();
    assertThat(spans.get(t(4)).checkpointTs()).isEqualTo(100);
    assertThat(h.maintainer.operators().straysOfTable(5)).as("a table that no longer exists is removed").isEqualTo(1);
    assertThat(spans.get(t(5))).as("and holds no span").isNull();

    h.settle();
    assertThat(h.side.liveFor(t(1))).containsExactly(t1);
    assertThat(h.side.liveFor(t(2))).containsExactly(t2Initializing);
    assertThat(h.side.liveFor(t(3))).hasSize(1).doesNotContain(t3Moving);
    assertThat(h.side.liveFor(t(4))).hasSize(1);
    assertThat(h.side.liveFor(t(5))).isEmpty();
    assertThat(spans.get(t(5))).isNull();
    assertThat(h.side.liveCount()).as("one dispatcher per span plus the trigger").isEqualTo(4 + 1);
    // The re-created span of table 3 resumes from where the stopped one got to.
    DispatcherSchedule create = h.sentOf(ScheduleDispatcherRequest.class).stream().flatMap(r -> r.getItemsList().stream())
        .filter(i -> i.getSpan().equals(t(3)) && i.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE).findFirst().orElseThrow();
    assertThat(create.getStartTs()).isEqualTo(160);
  }
}
