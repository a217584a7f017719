package io.feedline.dispatcher.event;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.Objects;

/**
 * A change of one row. {@code before} is empty for an insert, {@code after} is empty for a delete.
 * Column maps keep their column order.
 *
 * @param key the row's primary key in its source's encoding, the bytes spans split tables by (compared as
 *     unsigned bytes): a source encodes one key the same way on every node
 */
public record RowChange(long tableId, long commitTs, Op op, ByteString key, Map<String, Object> before, Map<String, Object> after)
    implements ChangeEvent {

  public enum Op {
    INSERT,
    UPDATE,
    DELETE
  }

  public RowChange {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(before, "before");
    Objects.requireNonNull(after, "after");
  }
}
