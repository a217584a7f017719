package io.feedline.maintainer.span;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.ComponentState;
import io.feedline.proto.SpanHold;
import io.feedline.proto.TableSpan;

/**
 * What the maintainer knows about one span: the dispatcher that replicates it (none = absent), where,
 * whether it reported Working, and the highest checkpoint it reported. Changed only by
 * {@link SpanController}, so its indexes stay exact.
 */
public final class SpanReplication {

  private final TableSpan span;
  private final long schemaId;
  DispatcherKey dispatcher;
  NodeId node;
  boolean working;
  long checkpointTs;
  /** What its dispatchers last said of it, for the checkpoint's blockers (see {@link SpanController#observe}). */
  ComponentState reportedState;
  boolean blockedAtDdl;
  SpanHold hold = SpanHold.SPAN_HOLD_NONE;
  String holdDetail = "";
  /** The hold is a dispatcher's failure, which holds the span until its checkpoint passes this. */
  boolean holdIsFailure;
  long holdCheckpointTs;

  SpanReplication(TableSpan span, long schemaId, long checkpointTs) {
    this.span = span;
    this.schemaId = schemaId;
    this.checkpointTs = checkpointTs;
  }

  public TableSpan span() {
    return span;
  }

  public long schemaId() {
    return schemaId;
  }

  /** The current dispatcher, or null when the span is absent. */
  public DispatcherKey dispatcher() {
    return dispatcher;
  }

  public NodeId node() {
    return node;
  }

  public boolean absent() {
    return dispatcher == null;
  }

  public boolean working() {
    return working;
  }

  /** Everything of the span up to here is written downstream; a new dispatcher for it starts here. */
  public long checkpointTs() {
    return checkpointTs;
  }

  /** The state its dispatcher last reported; null before any report (or when it has none). */
  public ComponentState reportedState() {
    return reportedState;
  }

  /** Its dispatcher reported itself blocked at a DDL (waiting for the barrier or writing the DDL). */
  public boolean blockedAtDdl() {
    return blockedAtDdl;
  }

  /** What holds its checkpoint as its dispatchers told: a stalled or failed sink, a failed source, or nothing known. */
  public SpanHold hold() {
    return hold;
  }

  /** The sink's or source's words for {@link #hold()}. */
  public String holdDetail() {
    return holdDetail;
  }

  @Override
  public String toString() {
    return TableSpans.format(span) + (dispatcher == null ? " absent" : " " + dispatcher + "@" + node + (working ? " working" : ""))
        + " ckpt=" + checkpointTs;
  }
}
