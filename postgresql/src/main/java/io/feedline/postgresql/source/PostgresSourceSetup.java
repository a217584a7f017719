package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.postgresql.connect.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * What a database needs, once, before changefeeds capture it ({@code feedline source setup}): the schema-change
 * capture ({@link DdlCapture}), installed by a superuser, granting the source URI's role what its streams use.
 */
public final class PostgresSourceSetup {

  private PostgresSourceSetup() {}

  /** The set-up SQL granting to {@code role}, to run as a superuser in {@code source}'s database. */
  public static String script(EndpointUri source, Map<String, String> env, String role) {
    SourceSpec.parse(source, env);
    return DdlCapture.script(role);
  }

  /**
   * Runs the set-up with {@code source}'s own credentials (a superuser's), granting to {@code role}.
   *
   * @return the database it was installed in
   */
  public static String apply(EndpointUri source, Map<String, String> env, String role) throws SQLException {
    SourceSpec spec = SourceSpec.parse(source, env);
    try (Connection conn = Jdbc.connect(spec.endpoint(), false)) {
      DdlCapture.install(conn, role);
      return conn.getCatalog();
    }
  }
}
