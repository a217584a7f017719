package io.feedline.postgresql.source;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The captured tables as last read from the catalog or described by the stream: written by the stream's
 * reader, read by the control context ({@code tablesAt}) and the data lane ({@code schemaAt}). Copy on write,
 * so readers never lock.
 */
final class CapturedTables {

  private volatile Map<Long, UpstreamTable> tables = Map.of();

  UpstreamTable get(long oid) {
    return tables.get(oid);
  }

  Collection<UpstreamTable> all() {
    return tables.values();
  }

  synchronized void replaceAll(Map<Long, UpstreamTable> fresh) {
    tables = Map.copyOf(fresh);
  }

  synchronized void put(UpstreamTable table) {
    Map<Long, UpstreamTable> next = new HashMap<>(tables);
    next.put(table.oid(), table);
    tables = Map.copyOf(next);
  }
}
