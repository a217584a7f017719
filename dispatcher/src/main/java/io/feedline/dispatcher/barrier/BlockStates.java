package io.feedline.dispatcher.barrier;

import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.InfluenceType;
import io.feedline.proto.InfluencedTables;
import io.feedline.proto.TableInfo;

/**
 * The dispatcher side's reading of the DDL barrier contract (control.proto, near {@code BlockState}):
 * which tables a DDL blocks and what schema change it asks the maintainer for, and which barrier actions
 * reach which dispatcher. Pure functions of their arguments.
 */
public final class BlockStates {

  private BlockStates() {}

  /**
   * The state a dispatcher reports when it blocks at {@code ddl}: CREATE TABLE X blocks only the trigger
   * and asks to add X; DROP TABLE X blocks the trigger and X, and asks to drop X; TRUNCATE and ADD
   * COLUMN block the trigger and X and change no span. The trigger and every span of X report the same
   * state, so the maintainer sees one barrier event per (commit ts, blocked tables).
   */
  public static BlockState waiting(DdlEvent ddl) {
    BlockState.Builder state = BlockState.newBuilder().setBlocked(true).setBlockTs(ddl.commitTs()).setStage(BlockStage.BLOCK_STAGE_WAITING);
    switch (ddl.type()) {
      case CREATE_TABLE -> state.setBlockedTables(normal(TableSpans.DDL_TABLE_ID))
          .addNeedAddedTables(TableInfo.newBuilder().setTableId(ddl.tableId()).setName(ddl.tableName()));
      case DROP_TABLE -> state.setBlockedTables(normal(TableSpans.DDL_TABLE_ID, ddl.tableId())).setNeedDroppedTables(normal(ddl.tableId()));
      case TRUNCATE_TABLE, ADD_COLUMN, DROP_COLUMN -> state.setBlockedTables(normal(TableSpans.DDL_TABLE_ID, ddl.tableId()));
    }
    return state.build();
  }

  /** The writer was told to write and is writing; a new maintainer that finds it so says WRITE again. */
  public static BlockState writing(BlockState waiting) {
    return waiting.toBuilder().setStage(BlockStage.BLOCK_STAGE_WRITING).build();
  }

  /** The DDL was written or passed: the dispatcher has moved past it and is no longer blocked. */
  public static BlockState done(BlockState blocked) {
    return blocked.toBuilder().setBlocked(false).setStage(BlockStage.BLOCK_STAGE_DONE).build();
  }

  /** Blocked at {@code commitTs} and waiting for an action (not yet writing or passing). */
  public static boolean waitingAt(BlockState state, long commitTs) {
    return state.getBlocked() && state.getBlockTs() == commitTs && state.getStage() == BlockStage.BLOCK_STAGE_WAITING;
  }

  /** Whether an action {@code influenced} these tables reaches a dispatcher of {@code tableId} in {@code schemaId}. */
  public static boolean influences(InfluencedTables influenced, long tableId, long schemaId) {
    return switch (influenced.getType()) {
      case INFLUENCE_TYPE_ALL -> true;
      case INFLUENCE_TYPE_DB -> influenced.getSchemaId() == schemaId;
      case INFLUENCE_TYPE_NORMAL -> influenced.getTableIdsList().contains(tableId);
      case UNRECOGNIZED -> false;
    };
  }

  private static InfluencedTables normal(long... tableIds) {
    InfluencedTables.Builder b = InfluencedTables.newBuilder().setType(InfluenceType.INFLUENCE_TYPE_NORMAL);
    for (long id : tableIds) {
      b.addTableIds(id);
    }
    return b.build();
  }
}
