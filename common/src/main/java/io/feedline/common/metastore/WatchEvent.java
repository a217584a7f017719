package io.feedline.common.metastore;

/** A change seen by a watch. For a delete, {@code kv} carries the key and the delete's revision as modRevision. */
public record WatchEvent(Type type, KeyValue kv) {
  public enum Type {
    PUT,
    DELETE
  }
}
