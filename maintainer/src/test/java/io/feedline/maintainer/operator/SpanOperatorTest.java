package io.feedline.maintainer.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.span.SpanController;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.TableSpan;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SpanOperatorTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final TableSpan T1 = TableSpans.wholeTable(1);
  private static final DispatcherKey OLD = new DispatcherKey(0, 1);
  private static final DispatcherKey NEW = new DispatcherKey(0, 2);
  private static final ComponentState WORKING = ComponentState.COMPONENT_STATE_WORKING;
  private static final ComponentState STOPPED = ComponentState.COMPONENT_STATE_STOPPED;

  private SpanController spans;
  private SpanOperatorController ops;
  private long now = 0;

  @BeforeEach
  void replicatedOnN1() {
    spans = new SpanController();
    ops = new SpanOperatorController(spans, 500);
    spans.addAbsent(T1, 1, 100);
    spans.assign(T1, OLD, N1, true);
    spans.working(T1, 150);
  }

  private List<DispatcherSchedule> round() {
    ScheduleBatch batch = new ScheduleBatch();
    ops.collect(now, batch);
    now += 100;
    return batch.byNode().values().stream().flatMap(List::stream).toList();
  }

  private MoveSpan move() {
    return new MoveSpan(T1, 1, N1, OLD, N2, NEW);
  }

  @Test
  void oneOperatorPerSpan() {
    assertThat(ops.add(move())).isTrue();
    assertThat(ops.add(new RemoveSpan(T1, N1, OLD, RemoveSpan.Then.DELETE, OperatorType.OPERATOR_TYPE_REMOVE))).isFalse();
    assertThat(ops.size()).isEqualTo(1);
  }

  @Test
  void aMoveStopsTheOriginFirstThenCreatesFromItsFinalCheckpoint() {
    ops.add(move());
    List<DispatcherSchedule> first = round();
    assertThat(first).singleElement().satisfies(i -> {
      assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_REMOVE);
      assertThat(DispatcherKey.of(i.getId())).isEqualTo(OLD);
      assertThat(i.getOperatorType()).isEqualTo(OperatorType.OPERATOR_TYPE_MOVE);
    });
    assertThat(round()).as("throttled: no resend within the interval").isEmpty();
    ops.onStatus(N1, OLD, STOPPED, 180);
    List<DispatcherSchedule> create = round();
    assertThat(create).singleElement().satisfies(i -> {
      assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_CREATE);
      assertThat(DispatcherKey.of(i.getId())).isEqualTo(NEW);
      assertThat(i.getStartTs()).isEqualTo(180);
    });
    ops.onStatus(N2, NEW, WORKING, 180);
    assertThat(ops.size()).isZero();
    assertThat(spans.get(T1).node()).isEqualTo(N2);
    assertThat(spans.get(T1).working()).isTrue();
  }

  @Test
  void aMoveWhoseDestinationIsLostLeavesTheSpanAbsentOnlyOnceTheOriginStopped() {
    ops.add(move());
    round();
    ops.onNodeRemoved(N2);
    assertThat(spans.get(T1).absent()).as("the origin may still write").isFalse();
    assertThat(round()).isEmpty();
    now += 500;
    assertThat(round()).as("the origin's removal is still resent").singleElement()
        .satisfies(i -> assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_REMOVE));
    ops.onStatus(N1, OLD, STOPPED, 190);
    assertThat(spans.get(T1).absent()).isTrue();
    assertThat(spans.get(T1).checkpointTs()).isEqualTo(190);
    assertThat(ops.size()).isZero();
  }

  @Test
  void aMoveWhoseOriginIsLostCreatesAtTheDestination() {
    ops.add(move());
    round();
    ops.onNodeRemoved(N1);
    assertThat(round()).singleElement().satisfies(i -> {
      assertThat(i.getAction()).isEqualTo(ScheduleAction.SCHEDULE_ACTION_CREATE);
      assertThat(i.getStartTs()).isEqualTo(150);
    });
    ops.onNodeRemoved(N2);
    assertThat(spans.get(T1).absent()).isTrue();
    assertThat(ops.size()).isZero();
  }

  @Test
  void anAddWhoseDestinationIsLostOrThatStopsLeavesTheSpanAbsent() {
    spans.markAbsent(T1, 150);
    ops.add(new AddSpan(T1, 1, N2, NEW, 150, OperatorType.OPERATOR_TYPE_ADD));
    assertThat(spans.get(T1).node()).isEqualTo(N2);
    ops.onNodeRemoved(N2);
    assertThat(spans.get(T1).absent()).isTrue();

    DispatcherKey again = new DispatcherKey(0, 3);
    ops.add(new AddSpan(T1, 1, N1, again, 150, OperatorType.OPERATOR_TYPE_ADD));
    ops.onStatus(N1, again, STOPPED, 150);
    assertThat(spans.get(T1).absent()).isTrue();
    assertThat(ops.size()).isZero();
  }

  @Test
  void aRemoveOnALostNodeFinishesAndDeletesTheSpanWhenAsked() {
    ops.add(new RemoveSpan(T1, N1, OLD, RemoveSpan.Then.DELETE, OperatorType.OPERATOR_TYPE_REMOVE));
    ops.onNodeRemoved(N1);
    assertThat(spans.get(T1)).isNull();
    assertThat(ops.size()).isZero();
  }

  @Test
  void aSplitStopsTheSpanThenLeavesItsPartsAbsentFromTheFinalCheckpoint() {
    List<TableSpan> parts = TableSpans.splitAt(T1, List.of(ByteString.copyFromUtf8("m")));
    ops.add(ReplaceSpans.split(spans.get(T1), parts));
    assertThat(round()).singleElement().satisfies(i -> assertThat(i.getOperatorType()).isEqualTo(OperatorType.OPERATOR_TYPE_SPLIT));
    ops.onStatus(N1, OLD, STOPPED, 170);
    assertThat(spans.get(T1)).isNull();
    assertThat(spans.absentList()).containsExactlyInAnyOrderElementsOf(parts);
    assertThat(parts).allSatisfy(p -> assertThat(spans.get(p).checkpointTs()).isEqualTo(170));
  }

  @Test
  void aMergeStopsEveryPartEvenOnALostNodeThenStartsFromTheLowestCheckpoint() {
    spans.delete(T1);
    List<TableSpan> parts = TableSpans.splitAt(T1, List.of(ByteString.copyFromUtf8("m")));
    DispatcherKey left = new DispatcherKey(0, 10);
    DispatcherKey right = new DispatcherKey(0, 11);
    spans.addAbsent(parts.get(0), 1, 200);
    spans.assign(parts.get(0), left, N1, true);
    spans.addAbsent(parts.get(1), 1, 160);
    spans.assign(parts.get(1), right, N2, true);
    ops.add(ReplaceSpans.merge(List.of(spans.get(parts.get(0)), spans.get(parts.get(1))), T1));
    assertThat(round()).hasSize(2);
    ops.onStatus(N1, left, STOPPED, 210);
    assertThat(spans.get(T1)).isNull();
    assertThat(ops.checkpointFloor()).isEqualTo(160);
    ops.onNodeRemoved(N2);
    assertThat(spans.get(T1).absent()).isTrue();
    assertThat(spans.get(T1).checkpointTs()).isEqualTo(160);
    assertThat(spans.size()).isEqualTo(1);
  }

  @Test
  void quiescedEverythingButTriggerClosesFreezesWhereItStandsAndStillHoldsTheCheckpoint() {
    DispatcherKey stray = new DispatcherKey(0, 20);
    DispatcherKey olderTrigger = new DispatcherKey(0, 21);
    ops.add(move());
    ops.removeStray(N2, stray, TableSpans.wholeTable(9));
    ops.closeTrigger(N2, olderTrigger, TableSpan.getDefaultInstance());
    assertThat(round()).hasSize(3);
    spans.working(T1, 170); // progress reported before the freeze; the move starts from 150

    ops.quiesce();
    now += 1_000;

    assertThat(round()).as("only the trigger close is resent").singleElement()
        .satisfies(i -> assertThat(DispatcherKey.of(i.getId())).isEqualTo(olderTrigger));
    assertThat(ops.onStatus(N1, OLD, STOPPED, 190)).as("consumed, so nothing else acts on it").isTrue();
    ops.onNodeRemoved(N2);
    now += 1_000;
    assertThat(round()).as("the move did not step to its create").isEmpty();
    assertThat(ops.size()).isEqualTo(1);
    assertThat(ops.checkpointFloor()).isEqualTo(150);
    assertThat(spans.get(T1).node()).isEqualTo(N1);
    assertThat(ops.strayPending(stray)).as("frozen").isTrue();
    assertThat(ops.strayPending(olderTrigger)).as("its node left: closed").isFalse();
    assertThat(ops.frozen()).isEqualTo(2);
    assertThat(ops.add(new RemoveSpan(TableSpans.wholeTable(2), N1, new DispatcherKey(0, 30), RemoveSpan.Then.DELETE,
        OperatorType.OPERATOR_TYPE_REMOVE))).as("nothing new starts").isFalse();
    assertThat(ops.removeStray(N1, new DispatcherKey(0, 31), TableSpans.wholeTable(3))).isFalse();
    assertThat(ops.closeTrigger(N1, new DispatcherKey(0, 32), TableSpan.getDefaultInstance())).isTrue();
  }
}
