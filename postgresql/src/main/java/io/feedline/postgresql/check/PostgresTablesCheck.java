package io.feedline.postgresql.check;

import io.feedline.dispatcher.check.CheckInputException;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.postgresql.source.PostgresSourceTables;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code feedline check --source postgresql://… --sink postgresql://…}: every table the source captures
 * against the sink's table of the same name, row by row, keyed by the primary key. Meant for a changefeed
 * that has caught up with a quiet upstream (the check compares what both databases hold now); any row
 * missing, extra or different is reported. Rows are compared in PostgreSQL's JSON text of the row
 * ({@code row_to_json}).
 */
public final class PostgresTablesCheck {

  private PostgresTablesCheck() {}

  public static CheckReport check(String sourceUri, String sinkUri, Map<String, String> env) {
    PostgresEndpoint sinkEndpoint = PostgresEndpoint.parse("sink", EndpointUri.parse("sink", sinkUri), env);
    EndpointUri source = EndpointUri.parse("source", sourceUri);
    // Both sessions in UTC and ISO styles (Jdbc), so equal values read equally in either database.
    try (Connection up = Jdbc.connect(PostgresSourceTables.endpoint(source, env), false);
        Connection down = Jdbc.connect(sinkEndpoint, false)) {
      List<CheckReport.TableDiff> diffs = new ArrayList<>();
      List<String> missingTables = new ArrayList<>();
      long rows = 0;
      List<PostgresSourceTables.Table> captured = PostgresSourceTables.captured(up, source, env);
      for (PostgresSourceTables.Table table : captured) {
        Map<String, String> want = rows(up, SqlText.ident(table.schema()) + "." + SqlText.ident(table.name()), table.primaryKey());
        rows += want.size();
        if (!exists(down, sinkEndpoint.schema(), table.name())) {
          missingTables.add(table.schema() + "." + table.name() + " (" + want.size() + " rows) is missing downstream in schema "
              + sinkEndpoint.schema());
          continue;
        }
        Map<String, String> have = rows(down, SqlText.qualified(sinkEndpoint.schema(), table.name()), table.primaryKey());
        CheckReport.TableDiff.Builder diff = new CheckReport.TableDiff.Builder(table.oid());
        want.forEach((key, row) -> {
          String got = have.get(key);
          if (got == null) {
            diff.missingRow(key, new JsonObject(row));
          } else if (!got.equals(row)) {
            diff.wrongRow(key, new JsonObject(row), new JsonObject(got));
          }
        });
        have.forEach((key, row) -> {
          if (!want.containsKey(key)) {
            diff.extraRow(key, new JsonObject(row));
          }
        });
        CheckReport.TableDiff built = diff.build();
        if (!built.isEmpty()) {
          diffs.add(built);
        }
      }
      return CheckReport.ofDatabases(rows, captured.size(), diffs, missingTables);
    } catch (SQLException e) {
      throw new CheckInputException("cannot read the databases: " + e.getMessage());
    }
  }

  /** A table's rows as JSON text by key (the key columns' JSON). */
  private static Map<String, String> rows(Connection conn, String table, List<String> key) throws SQLException {
    String keyJson = "json_build_array(" + String.join(", ", key.stream().map(k -> "t." + SqlText.ident(k)).toList()) + ")::text";
    Map<String, String> rows = new HashMap<>();
    conn.setAutoCommit(false); // a cursor: rows stream instead of arriving all at once
    try (PreparedStatement s = conn.prepareStatement("SELECT " + keyJson + ", row_to_json(t)::text FROM " + table + " t")) {
      s.setFetchSize(10_000);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          rows.put(r.getString(1), r.getString(2));
        }
      }
    } finally {
      conn.commit();
      conn.setAutoCommit(true);
    }
    return rows;
  }

  private static boolean exists(Connection conn, String schema, String table) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      s.setString(1, SqlText.qualified(schema, table));
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }
}
