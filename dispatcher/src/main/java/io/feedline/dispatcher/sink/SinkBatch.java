package io.feedline.dispatcher.sink;

import io.feedline.dispatcher.dispatcher.DispatcherRef;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.proto.TableSpan;
import java.util.List;

/**
 * Events of one span, in commit-ts order, complete up to {@code resolvedTs}.
 *
 * @param redo the writer is a redo dispatcher: the batch belongs to the redo log, not the downstream tables
 */
public record SinkBatch(DispatcherRef dispatcher, TableSpan span, boolean redo, List<ChangeEvent> events, long resolvedTs) {

  public SinkBatch {
    events = List.copyOf(events);
  }
}
