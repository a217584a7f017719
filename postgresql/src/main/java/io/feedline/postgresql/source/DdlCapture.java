package io.feedline.postgresql.source;

import io.feedline.postgresql.sql.SqlText;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The upstream half of schema-change capture ({@code capture-ddl.sql}): event triggers that record every table
 * DDL in {@code feedline_capture.ddl_history} and emit it into the WAL as a transactional logical message (prefix
 * {@value #MESSAGE_PREFIX}) carrying the table's definition right after it, which the stream turns into DDL
 * events at their commit position ({@link ChangeAssembler}); and the registry through which a table created
 * later joins the Feedline-owned publications whose rules capture it, in its creating transaction.
 */
final class DdlCapture {

  static final String MESSAGE_PREFIX = "feedline-ddl";
  private static final String SCRIPT = "capture-ddl.sql";
  private static final String ROLE_PLACEHOLDER = ":role";

  /**
   * A row of {@code feedline_capture.ddl_history} as one changefeed sees it.
   *
   * @param position where the changefeed placed the event the DDL became, else where it committed (or a bound
   *     of that); -1 when no stream has read it yet
   */
  record HistoryEntry(long id, long tableOid, String kind, String schema, String name, boolean keyed, long position) {

    boolean creates() {
      return kind.equals("create");
    }

    boolean drops() {
      return kind.equals("drop");
    }
  }

  private DdlCapture() {}

  /** The set-up script, granting what the source needs to {@code role}. */
  static String script(String role) {
    try (InputStream in = DdlCapture.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace(ROLE_PLACEHOLDER, SqlText.ident(role));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether both event triggers are there and enabled, with the functions and tables the source uses. */
  static boolean installed(Connection conn) throws SQLException {
    // From the catalogs, by name: a role without USAGE on the schema may look but not resolve names in it.
    return test(conn, "SELECT (SELECT count(*) FROM pg_event_trigger WHERE evtname IN ('feedline_ddl_command_end', 'feedline_sql_drop') "
        + "AND evtenabled <> 'D') = 2 AND EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        + "WHERE n.nspname = 'feedline_capture' AND p.proname = 'ddl_committed_before' AND p.pronargs = 3) "
        + "AND EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        + "WHERE n.nspname = 'feedline_capture' AND c.relname = 'changefeeds')");
  }

  /** Whether the connection's role was granted what a changefeed's streams use (the set-up grants it to one role). */
  static boolean granted(Connection conn) throws SQLException {
    return test(conn, "SELECT has_schema_privilege('feedline_capture', 'USAGE') "
        + "AND (SELECT bool_and(has_function_privilege(p.oid, 'EXECUTE')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        + "WHERE n.nspname = 'feedline_capture' AND p.proname IN ('ddl_committed', 'ddl_committed_before', 'record_existing')) "
        + "AND (SELECT bool_and(has_table_privilege(c.oid, 'SELECT')) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        + "WHERE n.nspname = 'feedline_capture' AND c.relname IN ('ddl_history', 'ddl_positions', 'changefeeds', 'publications'))");
  }

  private static boolean test(Connection conn, String sql) throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getBoolean(1);
    }
  }

  /** Runs the set-up script in one transaction, as the connection's role (which must be a superuser). */
  static void install(Connection conn, String role) throws SQLException {
    boolean auto = conn.getAutoCommit();
    conn.setAutoCommit(false);
    try (Statement s = conn.createStatement()) {
      s.execute(script(role));
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(auto);
    }
  }

  /** Records the tables the history does not tell of yet as they are now, below any position a changefeed asks about. */
  static void recordExisting(Connection conn) throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.execute("SELECT feedline_capture.record_existing()");
    }
  }

  /** Makes a Feedline-owned publication follow the changefeed's rules for tables created from now on. */
  static void register(Connection conn, String publication, TableRules rules) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("INSERT INTO feedline_capture.publications (publication, rules) VALUES (?, ?) "
        + "ON CONFLICT (publication) DO UPDATE SET rules = EXCLUDED.rules")) {
      s.setString(1, publication);
      s.setArray(2, conn.createArrayOf("text", rules.asPostgresRegexes().toArray()));
      s.execute();
    }
  }

  static void unregister(Connection conn, String publication) throws SQLException {
    if (!test(conn, "SELECT to_regclass('feedline_capture.publications') IS NOT NULL")) {
      return; // the capture was removed by hand: nothing registered is left
    }
    try (PreparedStatement s = conn.prepareStatement("DELETE FROM feedline_capture.publications WHERE publication = ?")) {
      s.setString(1, publication);
      s.execute();
    }
  }

  /**
   * Records that the DDLs of a transaction committed at {@code commitLsn} (a stream of {@code changefeed} read
   * it), and where the changefeed placed the events they became.
   */
  static void committed(Connection conn, String changefeed, long commitLsn, List<ChangeAssembler.DdlEntry> entries) throws SQLException {
    List<ChangeAssembler.DdlEntry> positioned = entries.stream().filter(e -> e.position() >= 0).toList();
    try (PreparedStatement s = conn.prepareStatement("SELECT feedline_capture.ddl_committed(?, ?::pg_lsn, ?, ?, ?::pg_lsn[])")) {
      s.setArray(1, conn.createArrayOf("bigint", entries.stream().map(ChangeAssembler.DdlEntry::id).toArray()));
      s.setString(2, Lsn.format(commitLsn));
      s.setString(3, SourceSpec.anchorSlot(changefeed));
      s.setArray(4, conn.createArrayOf("bigint", positioned.stream().map(ChangeAssembler.DdlEntry::id).toArray()));
      s.setArray(5, conn.createArrayOf("text", positioned.stream().map(e -> Lsn.format(e.position())).toArray()));
      s.execute();
    }
  }

  /** Forgets what the history kept for a removed changefeed: where it placed DDL events, that its create was done. */
  static void forget(Connection conn, String changefeed) throws SQLException {
    if (!test(conn, "SELECT to_regclass('feedline_capture.ddl_positions') IS NOT NULL")) {
      return;
    }
    for (String forget : List.of("DELETE FROM feedline_capture.ddl_positions WHERE changefeed = ?",
        "DELETE FROM feedline_capture.changefeeds WHERE slot = ?")) {
      try (PreparedStatement s = conn.prepareStatement(forget)) {
        s.setString(1, SourceSpec.anchorSlot(changefeed));
        s.execute();
      }
    }
  }

  /**
   * Bounds the entries that the exported {@code snapshot} of the changefeed's new slot sees unread: they committed
   * before {@code lsn}, the slot's consistent point (none of them is ever decoded by it); and marks the
   * changefeed's create as done ({@link #bounded}). The entries are read under the snapshot (which the
   * replication connection that exported it must keep open meanwhile) and bounded in a transaction of their own,
   * so that a stream recording an exact position at the same time does not make the create fail.
   */
  static void committedBefore(Connection conn, String snapshot, long lsn, String changefeed) throws SQLException {
    List<Long> unread = new ArrayList<>();
    boolean auto = conn.getAutoCommit();
    conn.setAutoCommit(false);
    try (Statement s = conn.createStatement()) {
      s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      s.execute("SET TRANSACTION SNAPSHOT " + SqlText.literal(snapshot));
      try (ResultSet r = s.executeQuery("SELECT id FROM feedline_capture.ddl_history WHERE commit_lsn IS NULL")) {
        while (r.next()) {
          unread.add(r.getLong(1));
        }
      }
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(auto);
    }
    try (PreparedStatement bound = conn.prepareStatement("SELECT feedline_capture.ddl_committed_before(?::pg_lsn, ?, ?)")) {
      bound.setString(1, Lsn.format(lsn));
      bound.setArray(2, conn.createArrayOf("bigint", unread.toArray()));
      bound.setString(3, SourceSpec.anchorSlot(changefeed));
      bound.execute();
    }
  }

  /** Whether the changefeed's create bounded the history for its slot (see {@link #committedBefore}). */
  static boolean bounded(Connection conn, String changefeed) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT 1 FROM feedline_capture.changefeeds WHERE slot = ?")) {
      s.setString(1, SourceSpec.anchorSlot(changefeed));
      try (ResultSet r = s.executeQuery()) {
        return r.next();
      }
    }
  }

  /** The history as {@code changefeed} sees it, in the order the DDLs ran. */
  static List<HistoryEntry> history(Connection conn, String changefeed) throws SQLException {
    List<HistoryEntry> out = new ArrayList<>();
    try (PreparedStatement s = conn.prepareStatement("SELECT h.id, h.table_oid, h.kind, h.schema_name, h.table_name, h.keyed, "
        + "coalesce(p.position, h.commit_lsn)::text FROM feedline_capture.ddl_history h "
        + "LEFT JOIN feedline_capture.ddl_positions p ON p.entry = h.id AND p.changefeed = ? ORDER BY h.id")) {
      s.setString(1, SourceSpec.anchorSlot(changefeed));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
        String lsn = r.getString(7);
        out.add(new HistoryEntry(r.getLong(1), r.getLong(2), r.getString(3), r.getString(4), r.getString(5), r.getBoolean(6),
            lsn == null ? -1 : Lsn.parse(lsn)));
        }
      }
    }
    return out;
  }
}
