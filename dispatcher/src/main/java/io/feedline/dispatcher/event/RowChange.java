package io.feedline.dispatcher.event;

import java.util.Map;
import java.util.Objects;

/**
 * A change of one row. {@code before} is empty for an insert, {@code after} is empty for a delete.
 * Column maps keep their column order.
 */
public record RowChange(long tableId, long commitTs, Op op, long key, Map<String, Object> before, Map<String, Object> after)
    implements ChangeEvent {

  public enum Op {
    INSERT,
    UPDATE,
    DELETE
  }

  public RowChange {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(before, "before");
    Objects.requireNonNull(after, "after");
  }
}
