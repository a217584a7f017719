package io.feedline.dispatcher.manager;

import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.dispatcher.DispatcherSpec;
import io.feedline.proto.BlockState;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableSpan;
import java.util.HashSet;
import java.util.Set;

/** What a dispatcher manager knows about one of its dispatchers. Mutated only by {@link DispatcherManager}. */
final class DispatcherEntry {

  enum Kind {
    TABLE,
    EVENT_TRIGGER,
    REDO_TRIGGER
  }

  final DispatcherKey ref;
  final TableSpan span;
  final long schemaId;
  final boolean redo;
  final Kind kind;
  long startTs;
  ComponentState state = ComponentState.COMPONENT_STATE_INITIALIZING;
  long checkpointTs;
  long resolvedTs;
  /** A Start command was issued: stopping it needs the running dispatcher to confirm. */
  boolean started;
  boolean stopRequested;
  /** A merged dispatcher waits for these to stop before it starts (they cover its span until then). */
  final Set<DispatcherKey> waitingFor = new HashSet<>();
  /** The lowest final checkpoint of the merge sources stopped so far. */
  long mergeStartTs = Long.MAX_VALUE;
  /** Where it stands at the DDL barrier: default (never blocked), blocked (waiting/writing) or done. */
  BlockState block = BlockState.getDefaultInstance();
  /** The action for the current block was handed to the dispatcher: no more block-status resends. */
  boolean releaseIssued;

  /** What holds its checkpoint as far as this node can tell (a stalled sink write, a failure), with its words. */
  SpanHold hold = SpanHold.SPAN_HOLD_NONE;
  String holdDetail = "";

  /** What the last heartbeat reported (null before the first): a partial heartbeat carries only what changed. */
  private ComponentState reportedState;
  private long reportedCheckpointTs;
  private BlockState reportedBlock;
  private SpanHold reportedHold;
  private String reportedHoldDetail;

  DispatcherEntry(DispatcherKey ref, TableSpan span, long schemaId, boolean redo, Kind kind, long startTs) {
    this.ref = ref;
    this.span = span;
    this.schemaId = schemaId;
    this.redo = redo;
    this.kind = kind;
    this.startTs = startTs;
    this.checkpointTs = startTs;
    this.resolvedTs = startTs;
  }

  DispatcherSpec spec() {
    return new DispatcherSpec(ref, span, startTs, redo);
  }

  SpanStatus status() {
    return SpanStatus.newBuilder().setId(ref.proto()).setState(state).setCheckpointTs(checkpointTs)
        .setBlockState(block).setHold(hold).setHoldDetail(holdDetail).build();
  }

  /** The status changed since it was last {@linkplain #report() reported} (block states are immutable: a new one is a change). */
  boolean changedSinceReport() {
    return state != reportedState || checkpointTs != reportedCheckpointTs || block != reportedBlock || hold != reportedHold
        || !holdDetail.equals(reportedHoldDetail);
  }

  /** The status, remembered as reported. */
  SpanStatus report() {
    reportedState = state;
    reportedCheckpointTs = checkpointTs;
    reportedBlock = block;
    reportedHold = hold;
    reportedHoldDetail = holdDetail;
    return status();
  }

  SpanBlockStatus blockStatus() {
    return SpanBlockStatus.newBuilder().setId(ref.proto()).setState(block).build();
  }

  DispatcherSnapshot snapshot() {
    return DispatcherSnapshot.newBuilder().setId(ref.proto()).setSpan(span).setSchemaId(schemaId).setState(state)
        .setCheckpointTs(checkpointTs).setBlockState(block).setRedo(redo).build();
  }
}
