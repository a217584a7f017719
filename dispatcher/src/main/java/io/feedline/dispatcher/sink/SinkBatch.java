package io.feedline.dispatcher.sink;

import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.proto.TableSpan;
import java.util.List;

/**
 * Events of one span, in commit-ts order: every event of the span in {@code (fromTs, resolvedTs]}. An
 * empty batch only records the checkpoint.
 *
 * @param redo the writer is a redo dispatcher: the batch belongs to the redo log, not the downstream tables
 * @param epoch the changefeed epoch the writer's dispatcher manager is fenced at: the fencing token
 * @param fromTs the writer's checkpoint before this batch (exclusive lower bound of what it covers)
 */
public record SinkBatch(DispatcherKey dispatcher, TableSpan span, boolean redo, long epoch, long fromTs, List<ChangeEvent> events,
    long resolvedTs) {

  public SinkBatch {
    events = List.copyOf(events);
  }
}
