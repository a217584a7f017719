package io.feedline.postgresql.source;

import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The definitions of the captured tables by position: the catalog's as a baseline (read when a stream starts,
 * below every position), then each one a DDL or a {@code Relation} message of the stream gave, from its
 * position on, and the drop of a table from its DROP TABLE on. Written by the stream's reader, read by the data
 * lane ({@code schemaAt}: a sink creating or evolving a table needs its shape where the batch is, not where the
 * stream is, which may be past a later DROP COLUMN). Thread-safe without locks.
 */
final class CapturedTables {

  /** Where the catalog's definitions sit: below any position of the stream. */
  private static final long BASELINE = Long.MIN_VALUE;

  private final Map<Long, NavigableMap<Long, Optional<UpstreamTable>>> versions = new ConcurrentHashMap<>();

  /** The table's latest definition, or null when it is unknown or dropped. */
  UpstreamTable get(long oid) {
    NavigableMap<Long, Optional<UpstreamTable>> table = versions.get(oid);
    return table == null ? null : table.lastEntry().getValue().orElse(null);
  }

  /** The table's definition as of the events at or below {@code position}, or null when it did not exist there. */
  UpstreamTable at(long oid, long position) {
    NavigableMap<Long, Optional<UpstreamTable>> table = versions.get(oid);
    if (table == null) {
      return null;
    }
    Map.Entry<Long, Optional<UpstreamTable>> version = table.floorEntry(position);
    // A table whose first definition came from the stream is created there; before it, the one known is the answer.
    return (version != null ? version : table.firstEntry()).getValue().orElse(null);
  }

  /** The catalog's definitions, as every table's baseline (what the stream delivered since stays on top of it). */
  void baseline(Map<Long, UpstreamTable> catalog) {
    catalog.forEach((oid, table) -> define(oid, BASELINE, table));
  }

  /**
   * The table as defined from {@code position} on; null: dropped there. A definition equal to the one in force
   * there is not kept again ({@code Relation} messages repeat a table's shape after every cache invalidation).
   */
  void define(long oid, long position, UpstreamTable table) {
    Optional<UpstreamTable> version = Optional.ofNullable(table);
    // Built inside compute: a reader never sees a table's map before its first version is in.
    versions.compute(oid, (o, known) -> {
      NavigableMap<Long, Optional<UpstreamTable>> byPosition = known != null ? known : new ConcurrentSkipListMap<>();
      Map.Entry<Long, Optional<UpstreamTable>> inForce = byPosition.floorEntry(position);
      if (inForce == null || inForce.getKey() == position || !inForce.getValue().equals(version)) {
        byPosition.put(position, version);
      }
      return byPosition;
    });
  }
}
