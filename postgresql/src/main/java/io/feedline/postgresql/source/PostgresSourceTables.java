package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.postgresql.connect.PostgresEndpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/** The tables a {@code postgresql} source URI captures, for tools outside the stream (the check). */
public final class PostgresSourceTables {

  /** A captured table: its OID (the Feedline table id), name and key. */
  public record Table(long oid, String schema, String name, List<String> primaryKey) {}

  private PostgresSourceTables() {}

  /** The source's connection settings: how to connect to its database. */
  public static PostgresEndpoint endpoint(EndpointUri source, Map<String, String> env) {
    return SourceSpec.parse(source, env).endpoint();
  }

  /** The tables {@code source}'s rules capture that have a key, by OID. */
  public static List<Table> captured(Connection conn, EndpointUri source, Map<String, String> env) throws SQLException {
    return Upstream.catalog(conn, SourceSpec.parse(source, env).tables()).tables().values().stream()
        .map(t -> new Table(t.oid(), t.schema(), t.name(), t.primaryKey())).toList();
  }
}
