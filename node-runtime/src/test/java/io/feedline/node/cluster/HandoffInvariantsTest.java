package io.feedline.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.node.cluster.HandoffEvent.MaintainerLeaving;
import io.feedline.node.cluster.HandoffEvent.MoveItem;
import io.feedline.node.cluster.HandoffEvent.Stopped;
import io.feedline.node.cluster.HandoffEvent.TriggerNamed;
import io.feedline.node.cluster.HandoffEvent.Working;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The drain test's checker on made-up histories: it accepts legal handoffs and names each broken invariant. */
class HandoffInvariantsTest {

  private static final ChangefeedId CF = ChangefeedId.of("cf1");
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final TableSpan T1 = TableSpan.newBuilder().setTableId(1).build();
  private static final TableSpan TRIGGER = TableSpans.ddlSpan();
  private static final DispatcherKey D1 = new DispatcherKey(1, 1);
  private static final DispatcherKey D2 = new DispatcherKey(1, 2);
  private static final DispatcherKey D3 = new DispatcherKey(1, 3);

  private final List<HandoffEvent> history = new ArrayList<>();
  private long seq;

  private HandoffInvariantsTest working(NodeId node, DispatcherKey d, TableSpan span) {
    history.add(new Working(++seq, CF, node, d, span));
    return this;
  }

  private HandoffInvariantsTest stopped(NodeId node, DispatcherKey d, TableSpan span) {
    history.add(new Stopped(++seq, CF, node, d, span));
    return this;
  }

  private HandoffInvariantsTest moveRemove(long epoch, DispatcherKey origin) {
    history.add(new MoveItem(++seq, CF, epoch, T1, origin, false));
    return this;
  }

  private HandoffInvariantsTest moveCreate(long epoch, DispatcherKey destination) {
    history.add(new MoveItem(++seq, CF, epoch, T1, destination, true));
    return this;
  }

  private HandoffInvariants.Report check() {
    // Recorded out of order on purpose: the sequence numbers alone order the history.
    List<HandoffEvent> shuffled = new ArrayList<>(history);
    Collections.reverse(shuffled);
    return HandoffInvariants.check(shuffled);
  }

  private static TableSpan range(long table, String from, String to) {
    return TableSpan.newBuilder().setTableId(table).setStartKey(ByteString.copyFromUtf8(from)).setEndKey(ByteString.copyFromUtf8(to)).build();
  }

  @Test
  void aMoveWhoseDestinationStartsAfterTheOriginStoppedIsLegal() {
    working(N1, D1, T1).moveRemove(5, D1).moveRemove(5, D1).stopped(N1, D1, T1).moveCreate(5, D2).working(N2, D2, T1);

    HandoffInvariants.Report report = check();

    assertThat(report.violations()).isEmpty();
    assertThat(report.gaps()).singleElement().satisfies(g -> assertThat(g.span().span()).isEqualTo(T1));
    assertThat(report.workingAtEnd().values()).singleElement().satisfies(w -> assertThat(w).extracting(Working::dispatcher).containsExactly(D2));
  }

  @Test
  void twoWorkingDispatchersOfOneSpanAreAViolation() {
    working(N1, D1, T1).moveRemove(5, D1).moveCreate(5, D2).working(N2, D2, T1).stopped(N1, D1, T1);

    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.ONE_WRITER);
  }

  @Test
  void overlappingKeyRangesOfOneTableAreOneSpanButAdjacentOnesAndOtherTablesAreNot() {
    working(N1, D1, range(1, "a", "c")).working(N2, D2, range(1, "c", "e")).working(N2, D3, range(2, "a", "c"));
    assertThat(check().violations()).isEmpty();

    working(N1, new DispatcherKey(1, 4), range(1, "b", "d"));
    assertThat(check().violations()).hasSize(2).allSatisfy(v -> assertThat(v).startsWith(HandoffInvariants.ONE_WRITER));
  }

  @Test
  void aGapNoMoveOpenedIsAViolation() {
    // e.g. the dispatcher failed and self-healing placed the span again
    working(N1, D1, T1).stopped(N1, D1, T1).working(N2, D2, T1);

    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);
  }

  @Test
  void aGapClosedByAnotherPlacementThanItsMoveIsAViolation() {
    // The move's maintainer (epoch 5) left mid-move; the next one (epoch 6) placed the span anew: two moves' worth of gap.
    working(N1, D1, T1).moveRemove(5, D1).stopped(N1, D1, T1).moveCreate(6, D3).working(N2, D3, T1);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);
  }

  @Test
  void aGapWhoseMoveDestinationNeverWorkedIsAViolationEvenIfAnotherMoveClosesIt() {
    working(N1, D1, T1).moveRemove(5, D1).stopped(N1, D1, T1).moveCreate(5, D2).stopped(N2, D2, T1).working(N2, D3, T1);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);
  }

  @Test
  void aRemovalSentOnlyAfterTheStopDidNotOpenTheGap() {
    working(N1, D1, T1).stopped(N1, D1, T1).moveRemove(5, D1).moveCreate(5, D2).working(N2, D2, T1);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);
  }

  @Test
  void aSpanLeftWithoutAWorkingDispatcherIsAViolation() {
    working(N1, D1, T1).moveRemove(5, D1).stopped(N1, D1, T1).moveCreate(5, D2);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.COVERED_AT_END);
  }

  @Test
  void theTableTriggerMayChangeOnlyWithItsMaintainerMovingOnce() {
    working(N1, D1, TRIGGER);
    history.add(new MaintainerLeaving(++seq, CF, 5));
    history.add(new TriggerNamed(++seq, CF, 6, D2));
    stopped(N1, D1, TRIGGER).working(N2, D2, TRIGGER);
    assertThat(check().violations()).isEmpty();

    // Without its maintainer leaving first, the trigger went missing for some other reason.
    history.clear();
    working(N1, D1, TRIGGER);
    history.add(new TriggerNamed(++seq, CF, 6, D2));
    stopped(N1, D1, TRIGGER).working(N2, D2, TRIGGER);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);

    // The next maintainer (epoch 6) did not bring it back; a later one (epoch 7) did: two moves.
    history.clear();
    working(N1, D1, TRIGGER);
    history.add(new MaintainerLeaving(++seq, CF, 5));
    history.add(new TriggerNamed(++seq, CF, 6, D2));
    stopped(N1, D1, TRIGGER);
    history.add(new TriggerNamed(++seq, CF, 7, D3));
    working(N1, D3, TRIGGER);
    assertThat(check().violations()).singleElement().asString().startsWith(HandoffInvariants.GAP_WITHIN_ONE_MOVE);
  }
}
