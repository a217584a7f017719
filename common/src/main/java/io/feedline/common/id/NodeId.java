package io.feedline.common.id;

import java.util.Objects;
import java.util.UUID;

/** A node's identity. A fresh one per process start: a restarted node is a new node. */
public record NodeId(String value) implements Comparable<NodeId> {

  public NodeId {
    Objects.requireNonNull(value, "value");
    if (value.isBlank()) {
      throw new IllegalArgumentException("node id must not be blank");
    }
  }

  public static NodeId random() {
    return new NodeId(UUID.randomUUID().toString());
  }

  public static NodeId of(String value) {
    return new NodeId(value);
  }

  @Override
  public int compareTo(NodeId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
