package io.feedline.dispatcher.source;

import io.feedline.dispatcher.event.ChangeEvent;
import java.util.List;

/** Events of one span in commit-ts order, complete up to {@code resolvedTs}. */
public record ChangeBatch(List<ChangeEvent> events, long resolvedTs) {

  public ChangeBatch {
    events = List.copyOf(events);
  }
}
