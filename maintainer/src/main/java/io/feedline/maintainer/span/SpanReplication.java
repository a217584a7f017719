package io.feedline.maintainer.span;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
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

  @Override
  public String toString() {
    return TableSpans.format(span) + (dispatcher == null ? " absent" : " " + dispatcher + "@" + node + (working ? " working" : ""))
        + " ckpt=" + checkpointTs;
  }
}
