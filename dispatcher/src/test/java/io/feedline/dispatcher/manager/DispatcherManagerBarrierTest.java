package io.feedline.dispatcher.manager;

import static io.feedline.dispatcher.testing.Requests.bootstrap;
import static io.feedline.dispatcher.testing.Requests.create;
import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.postBootstrap;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.InfluenceType;
import io.feedline.proto.InfluencedTables;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableInfo;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dispatcher side of the DDL barrier contract (control.proto), decided by the pure manager. */
class DispatcherManagerBarrierTest {

  private static final String CF = "cf1";
  private static final NodeId N1 = NodeId.of("n1");
  private static final DispatcherKey TRIGGER = id(0x7);
  private static final DispatcherKey X = id(0xA);
  private static final DispatcherKey Y = id(0xB);
  private static final long T = 1_000L << 18;
  private static final DdlEvent TRUNCATE_3 = new DdlEvent(3, T, DdlEvent.Type.TRUNCATE_TABLE, "t3", "TRUNCATE TABLE t3");
  private static final DdlEvent DROP_3 = new DdlEvent(3, T, DdlEvent.Type.DROP_TABLE, "t3", "DROP TABLE t3");
  private static final DdlEvent CREATE_5 = new DdlEvent(5, T, DdlEvent.Type.CREATE_TABLE, "t5", "CREATE TABLE t5 (id BIGINT)");

  private DispatcherManager manager;

  @BeforeEach
  void setUp() {
    manager = new DispatcherManager(ChangefeedId.of(CF), NodeId.of("self"), () -> 42L);
    manager.bootstrap(N1, 5, bootstrap(CF, 5, Requests.SINK, TRIGGER, null));
    manager.postBootstrap(postBootstrap(CF, 5, TRIGGER));
    manager.dispatcherWorking(TRIGGER);
    manager.schedule(create(CF, 5, X, table(3)));
    manager.dispatcherWorking(X);
    manager.schedule(create(CF, 5, Y, table(4)));
    manager.dispatcherWorking(Y);
    manager.dispatcherProgressed(Y, T + 50, T + 50);
  }

  private static HeartbeatResponse action(long epoch, BarrierAction action, long commitTs, long... tables) {
    InfluencedTables.Builder influenced = InfluencedTables.newBuilder().setType(InfluenceType.INFLUENCE_TYPE_NORMAL);
    for (long t : tables) {
      influenced.addTableIds(t);
    }
    return HeartbeatResponse.newBuilder().setChangefeedId(CF).setEpoch(epoch)
        .addActions(DispatcherAction.newBuilder().setAction(action).setCommitTs(commitTs).setInfluenced(influenced)).build();
  }

  private static HeartbeatResponse write(long commitTs) {
    return action(5, BarrierAction.BARRIER_ACTION_WRITE, commitTs, 0);
  }

  private static HeartbeatResponse pass(long commitTs, long table) {
    return action(5, BarrierAction.BARRIER_ACTION_PASS, commitTs, table);
  }

  private static List<DispatcherManagerEffects.Release> releases(DispatcherManagerEffects e) {
    return e.commands().stream().filter(c -> c instanceof DispatcherManagerEffects.Release).map(c -> (DispatcherManagerEffects.Release) c).toList();
  }

  private static BlockStatusRequest onlyBlockStatus(DispatcherManagerEffects e) {
    assertThat(e.replies()).singleElement().isInstanceOf(BlockStatusRequest.class);
    return (BlockStatusRequest) e.replies().get(0);
  }

  private BlockState heartbeatBlockState(DispatcherKey ref) {
    return manager.heartbeat().getStatusesList().stream().filter(s -> DispatcherKey.of(s.getId()).equals(ref)).findFirst()
        .map(SpanStatus::getBlockState).orElseThrow();
  }

  private static List<String> reasons(DispatcherManagerEffects e) {
    return e.notices().stream().map(Notice::reason).toList();
  }

  @Test
  void aBlockedDispatcherReportsWaitingAtOnceAndAtEveryHeartbeatUntilAnActionArrivesWithItsCheckpointAtTMinus1() {
    assertThat(manager.blockStatus()).as("nothing blocked yet").isNull();
    manager.dispatcherProgressed(TRIGGER, T + 50, T + 50);
    manager.dispatcherProgressed(X, T - 40, T - 40);

    BlockStatusRequest first = onlyBlockStatus(manager.dispatcherBlocked(X, TRUNCATE_3));
    assertThat(first.getEpoch()).as("carries the manager's fenced epoch").isEqualTo(5);
    SpanBlockStatus status = first.getStatuses(0);
    assertThat(DispatcherKey.of(status.getId())).isEqualTo(X);
    assertThat(status.getState().getBlocked()).isTrue();
    assertThat(status.getState().getBlockTs()).isEqualTo(T);
    assertThat(status.getState().getStage()).isEqualTo(BlockStage.BLOCK_STAGE_WAITING);
    assertThat(status.getState().getBlockedTables().getTableIdsList()).containsExactly(0L, 3L);
    assertThat(status.getState().hasNeedDroppedTables()).isFalse();

    // Resent with every heartbeat, unchanged, until acted on.
    assertThat(manager.blockStatus()).isEqualTo(first);
    assertThat(manager.blockStatus()).isEqualTo(first);
    assertThat(heartbeatBlockState(X)).isEqualTo(status.getState());
    assertThat(manager.heartbeat().getWatermark().getCheckpointTs()).as("the blocked span holds the watermark at T-1").isEqualTo(T - 1);
    DispatcherSnapshot snapshot = ((MaintainerBootstrapResponse) manager.bootstrap(N1, 5, bootstrap(CF, 5, Requests.SINK, TRIGGER, null))
        .replies().get(0)).getDispatchersList().stream().filter(d -> DispatcherKey.of(d.getId()).equals(X)).findFirst().orElseThrow();
    assertThat(snapshot.getBlockState()).as("a new maintainer rebuilds the barrier from the snapshot").isEqualTo(status.getState());
    assertThat(snapshot.getCheckpointTs()).isEqualTo(T - 1);
  }

  @Test
  void blockStatesFollowTheContractPerDdlType() {
    BlockState drop = onlyBlockStatus(manager.dispatcherBlocked(TRIGGER, DROP_3)).getStatuses(0).getState();
    assertThat(drop.getBlockedTables().getTableIdsList()).containsExactly(0L, 3L);
    assertThat(drop.getNeedDroppedTables().getTableIdsList()).containsExactly(3L);
    assertThat(drop.getNeedAddedTablesList()).isEmpty();

    manager.heartbeatResponse(write(T));
    manager.dispatcherPassed(TRIGGER, DROP_3);
    DdlEvent create = new DdlEvent(5, T + 8, DdlEvent.Type.CREATE_TABLE, "t5", "CREATE TABLE t5");
    BlockState created = onlyBlockStatus(manager.dispatcherBlocked(TRIGGER, create)).getStatuses(0).getState();
    assertThat(created.getBlockedTables().getTableIdsList()).as("only the trigger blocks at a create").containsExactly(0L);
    assertThat(created.getNeedAddedTablesList()).containsExactly(TableInfo.newBuilder().setTableId(5).setName("t5").build());
    assertThat(created.hasNeedDroppedTables()).isFalse();
  }

  @Test
  void writeReleasesTheTriggerOnceAndDoneIsReportedAgainForAResend() {
    manager.dispatcherBlocked(TRIGGER, CREATE_5);

    DispatcherManagerEffects applied = manager.heartbeatResponse(write(T));
    assertThat(releases(applied)).containsExactly(new DispatcherManagerEffects.Release(TRIGGER, T, true));
    assertThat(heartbeatBlockState(TRIGGER).getStage()).isEqualTo(BlockStage.BLOCK_STAGE_WRITING);
    assertThat(manager.blockStatus()).as("acted on: no more resends").isNull();

    // A resend while writing: nothing happens twice.
    DispatcherManagerEffects resent = manager.heartbeatResponse(write(T));
    assertThat(resent.commands()).isEmpty();
    assertThat(reasons(resent)).containsExactly("barrier_action_unmatched");

    BlockStatusRequest done = onlyBlockStatus(manager.dispatcherPassed(TRIGGER, CREATE_5));
    assertThat(done.getStatuses(0).getState().getStage()).isEqualTo(BlockStage.BLOCK_STAGE_DONE);
    assertThat(done.getStatuses(0).getState().getBlocked()).isFalse();
    assertThat(done.getStatuses(0).getState().getBlockTs()).isEqualTo(T);
    assertThat(heartbeatBlockState(TRIGGER).getStage()).isEqualTo(BlockStage.BLOCK_STAGE_DONE);

    // The DONE may have been lost: a resent WRITE gets DONE again, and no second write.
    DispatcherManagerEffects late = manager.heartbeatResponse(write(T));
    assertThat(late.commands()).isEmpty();
    assertThat(onlyBlockStatus(late)).isEqualTo(done);
  }

  @Test
  void passReachesOnlyTheInfluencedTablesBlockedAtExactlyThatTs() {
    manager.dispatcherBlocked(TRIGGER, TRUNCATE_3);
    manager.dispatcherBlocked(X, TRUNCATE_3);

    DispatcherManagerEffects otherTs = manager.heartbeatResponse(pass(T + 1, 3));
    assertThat(otherTs.commands()).isEmpty();
    assertThat(reasons(otherTs)).containsExactly("barrier_action_unmatched");
    assertThat(manager.heartbeatResponse(pass(T, 4)).commands()).as("table 4 is not blocked at T").isEmpty();

    assertThat(releases(manager.heartbeatResponse(pass(T, 3)))).containsExactly(new DispatcherManagerEffects.Release(X, T, false));
    assertThat(heartbeatBlockState(TRIGGER).getStage()).as("the trigger still waits for its WRITE").isEqualTo(BlockStage.BLOCK_STAGE_WAITING);
    assertThat(manager.blockStatus().getStatusesList()).extracting(s -> DispatcherKey.of(s.getId())).containsExactly(TRIGGER);
    assertThat(manager.heartbeatResponse(pass(T, 3)).commands()).as("a resent PASS while passing").isEmpty();

    manager.dispatcherPassed(X, TRUNCATE_3);
    assertThat(heartbeatBlockState(X).getStage()).isEqualTo(BlockStage.BLOCK_STAGE_DONE);
    manager.dispatcherProgressed(X, T + 9, T + 9);
    assertThat(manager.heartbeat().getWatermark().getCheckpointTs()).as("the trigger still holds T-1").isEqualTo(T - 1);
  }

  @Test
  void aBadActionIsCountedAndTheRestOfTheResponseStillApplies() {
    manager.dispatcherBlocked(X, TRUNCATE_3);
    HeartbeatResponse mixed = pass(T, 3).toBuilder()
        .addActions(0, DispatcherAction.newBuilder().setAction(BarrierAction.BARRIER_ACTION_NONE).setCommitTs(T)).build();
    DispatcherManagerEffects e = manager.heartbeatResponse(mixed);
    assertThat(reasons(e)).containsExactly("unknown_barrier_action");
    assertThat(releases(e)).containsExactly(new DispatcherManagerEffects.Release(X, T, false));
  }

  @Test
  void aStoppingDispatcherIsNotReleasedAndNoLongerResent() {
    manager.dispatcherBlocked(X, TRUNCATE_3);
    manager.schedule(Requests.remove(CF, 5, X));
    assertThat(manager.blockStatus()).isNull();
    assertThat(manager.heartbeatResponse(pass(T, 3)).commands()).isEmpty();
  }
}
