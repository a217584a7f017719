package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.postgresql.sql.SqlText;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.replication.ReplicationSlotInfo;

/**
 * What the source asks and keeps upstream, in SQL on a plain connection (blocking: callers run it on a
 * thread of their own): the captured tables, the set-up checks a changefeed's create runs first, the
 * publication and anchor slot it creates, and their removal.
 */
final class Upstream {

  /** Every user table with its key: the primary key, else the replica identity index's columns. */
  private static final String TABLES = "SELECT c.oid, n.nspname, c.relname, c.relreplident, "
      + "(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
      + "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum WHERE i.indrelid = c.oid AND i.indisprimary) AS pk, "
      + "(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
      + "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum WHERE i.indrelid = c.oid AND i.indisreplident) AS ident "
      + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      + "WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'feedline', 'feedline_capture') "
      + "AND n.nspname NOT LIKE 'pg\\_%'";

  private static final String COLUMNS = "SELECT a.attrelid, a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod), a.attnotnull "
      + "FROM pg_attribute a WHERE a.attrelid = ANY (?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum";

  private Upstream() {}

  /**
   * The captured tables by OID, and those the rules capture but whose rows cannot be identified, each with
   * the reason: no primary key nor replica identity index, {@code REPLICA IDENTITY NOTHING}, or a replica
   * identity index other than the primary key (a DELETE then names its row by columns the key is not among).
   */
  record Catalog(Map<Long, UpstreamTable> tables, List<String> unusable) {}

  static Catalog catalog(Connection conn, TableRules rules) throws SQLException {
    Map<Long, String[]> found = new LinkedHashMap<>();
    Map<Long, List<String>> keys = new LinkedHashMap<>();
    List<String> unusable = new ArrayList<>();
    try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery(TABLES)) {
      while (r.next()) {
        String schema = r.getString(2);
        String name = r.getString(3);
        if (!rules.captures(schema, name)) {
          continue;
        }
        List<String> primary = names(r.getArray(5));
        List<String> identity = names(r.getArray(6));
        String replicaIdentity = r.getString(4);
        String problem = replicaIdentity.equals("n") ? "REPLICA IDENTITY NOTHING (updates and deletes name no row)"
            : replicaIdentity.equals("i") && !primary.isEmpty() && !primary.equals(identity)
                ? "a replica identity index other than its primary key (set REPLICA IDENTITY DEFAULT)"
                : primary.isEmpty() && identity.isEmpty() ? "no primary key or replica identity index" : null;
        if (problem != null) {
          unusable.add(schema + "." + name + ": " + problem);
          continue;
        }
        List<String> key = primary.isEmpty() ? identity : primary;
        found.put(r.getLong(1), new String[] {schema, name});
        keys.put(r.getLong(1), key);
      }
    }
    Map<Long, List<ColumnSchema>> columns = new LinkedHashMap<>();
    Map<Long, List<Integer>> types = new LinkedHashMap<>();
    if (!found.isEmpty()) {
      try (PreparedStatement s = conn.prepareStatement(COLUMNS)) {
        s.setArray(1, conn.createArrayOf("oid", found.keySet().toArray()));
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            long oid = r.getLong(1);
            columns.computeIfAbsent(oid, o -> new ArrayList<>()).add(new ColumnSchema(r.getString(2), r.getString(4), !r.getBoolean(5)));
            types.computeIfAbsent(oid, o -> new ArrayList<>()).add(r.getInt(3));
          }
        }
      }
    }
    Map<Long, UpstreamTable> tables = new LinkedHashMap<>();
    found.forEach((oid, name) -> tables.put(oid, new UpstreamTable(oid, name[0], name[1], columns.getOrDefault(oid, List.of()),
        types.getOrDefault(oid, List.of()), keys.get(oid))));
    return new Catalog(tables, unusable);
  }

  /** {@code format_type(oid, typmod)}: how the catalog spells a column's type. */
  static String typeName(Connection conn, int typeOid, int typeModifier) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT format_type(?::oid, ?)")) {
      s.setInt(1, typeOid);
      s.setInt(2, typeModifier);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getString(1);
      }
    }
  }

  /**
   * Readies the upstream for a new changefeed, refusing early with what to change when it cannot serve it:
   * {@code wal_level} not logical, a role without the REPLICATION attribute, no schema-change capture (and a
   * role that may not install it), no free replication slot, a missing publication, a captured table without
   * a key, nothing captured. Then creates the publication (unless the URI names one; Feedline's own follows the
   * rules for tables created later) and the anchor slot, both only when absent, so a create that is retried
   * finds what the first attempt made.
   *
   * @return the changefeed's start position: the anchor slot's consistent point (the LSN from which it
   *     decodes every transaction)
   */
  static long prepare(Connection conn, SourceSpec spec, String changefeed) throws SQLException {
    String walLevel = single(conn, "SHOW wal_level");
    if (!walLevel.equals("logical")) {
      throw refused("wal_level is '" + walLevel + "'; capturing changes needs wal_level = logical "
          + "(ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)");
    }
    String user = single(conn, "SELECT current_user");
    if (!single(conn, "SELECT (rolreplication OR rolsuper)::text FROM pg_roles WHERE rolname = current_user").equals("true")) {
      throw refused("role " + user + " may not read logical replication: ALTER ROLE " + SqlText.ident(user) + " REPLICATION");
    }
    boolean superuser = single(conn, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user").equals("true");
    if (!DdlCapture.installed(conn)) {
      if (!superuser) {
        throw refused("database " + single(conn, "SELECT current_database()") + " has no schema-change capture (the event triggers that "
            + "tell a changefeed of tables created, altered and dropped); a superuser installs it once: run the SQL that feedline source "
            + "setup --source <this URI> prints, or feedline source setup --source <a superuser's URI> --role " + user + " --apply");
      }
      DdlCapture.install(conn, user);
    } else if (!superuser && !DdlCapture.granted(conn)) {
      throw refused("role " + user + " was not granted the schema-change capture of database " + single(conn, "SELECT current_database()")
          + " (it was set up for another role): a superuser runs the SQL that feedline source setup --source <this URI> prints");
    }
    // So that the first DDL of every table there now can say what the table was before it.
    DdlCapture.recordExisting(conn);
    String anchor = SourceSpec.anchorSlot(changefeed);
    String existing = slotPosition(conn, anchor);
    if (existing == null) {
      int free = Integer.parseInt(single(conn,
          "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)"));
      // The anchor, and at least one node's stream beside it.
      if (free < 2) {
        throw refused("no free replication slot: a changefeed needs one, plus one per node reading it, and "
            + Math.max(0, free) + " of max_replication_slots are free (drop unused ones listed in pg_replication_slots, or raise "
            + "max_replication_slots and restart PostgreSQL)");
      }
    }
    Catalog catalog = catalog(conn, spec.tables());
    if (!catalog.unusable().isEmpty()) {
      String first = catalog.unusable().get(0);
      throw refused("captured tables whose rows cannot be identified cannot be replicated: " + String.join("; ", catalog.unusable())
          + " (add a primary key, or leave them out with tables=" + spec.tables() + ",!" + first.substring(0, first.indexOf(':')) + ")");
    }
    if (catalog.tables().isEmpty()) {
      throw refused("tables=" + spec.tables() + " captures no table of database " + single(conn, "SELECT current_database()")
          + " (rules are [!]schema.table patterns, e.g. public.*)");
    }
    String publication = spec.publicationFor(changefeed);
    boolean published;
    try (PreparedStatement s = conn.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
      s.setString(1, publication);
      try (ResultSet r = s.executeQuery()) {
        published = r.next();
      }
    }
    if (!published && !spec.ownsPublication()) {
      throw refused("publication " + publication + " does not exist (CREATE PUBLICATION " + SqlText.ident(publication)
          + " FOR TABLE ..., or leave publication= out and Feedline creates one)");
    }
    if (spec.ownsPublication()) {
      // Registered first: from here on the DDL trigger adds the tables created later that the rules capture.
      DdlCapture.register(conn, publication, spec.tables());
      if (!published) {
        execute(conn, "CREATE PUBLICATION " + SqlText.ident(publication) + " FOR TABLE " + tableList(catalog.tables().values()));
      }
      // Tables created between the catalog read and the publication's creation were added by neither.
      List<UpstreamTable> missed = unpublished(conn, publication, catalog(conn, spec.tables()));
      if (!missed.isEmpty()) {
        execute(conn, "ALTER PUBLICATION " + SqlText.ident(publication) + " ADD TABLE " + tableList(missed));
      }
    } else {
      List<UpstreamTable> unpublished = unpublished(conn, publication, catalog);
      if (!unpublished.isEmpty()) {
        throw refused("publication " + publication + " does not publish captured tables "
            + unpublished.stream().map(UpstreamTable::qualifiedName).collect(Collectors.joining(", "))
            + " (ALTER PUBLICATION " + SqlText.ident(publication) + " ADD TABLE ..., or leave them out of tables=)");
      }
    }
    if (existing != null && !DdlCapture.bounded(conn, changefeed)) {
      // A create that made the slot but did not finish: the history it had to bound is unbounded, so make both again.
      dropSlot(conn, anchor);
      existing = null;
    }
    return existing != null ? Lsn.parse(existing) : createAnchor(conn, spec, anchor, changefeed);
  }

  /**
   * Creates the anchor slot on a replication connection, whose exported snapshot shows exactly the
   * transactions that committed before the slot's consistent point: the schema changes among them are marked
   * as such in the DDL history, which no stream of this changefeed will read.
   */
  private static long createAnchor(Connection conn, SourceSpec spec, String anchor, String changefeed) throws SQLException {
    try (Connection replication = Jdbc.connect(spec.endpoint(), true)) {
      ReplicationSlotInfo slot = replication.unwrap(PGConnection.class).getReplicationAPI().createReplicationSlot().logical()
          .withSlotName(anchor).withOutputPlugin("pgoutput").make();
      long start = slot.getConsistentPoint().asLong();
      try {
        DdlCapture.committedBefore(conn, slot.getSnapshotName(), start, changefeed);
      } catch (SQLException e) {
        // Without the bounds the slot must not stay: a retried create makes both again.
        try {
          dropSlot(conn, anchor);
        } catch (SQLException dropFailed) {
          e.addSuppressed(dropFailed);
        }
        throw e;
      }
      return start;
    }
  }

  private static void dropSlot(Connection conn, String slot) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, slot);
      s.execute();
    }
  }

  /**
   * The captured tables that existed at {@code position} (a position the changefeed has reached, at or above
   * its start): the catalog now, with the DDL history after {@code position} undone. Read in one snapshot.
   */
  static List<TableHistory.Table> tablesAt(Connection conn, SourceSpec spec, String changefeed, long position) throws SQLException {
    boolean auto = conn.getAutoCommit();
    conn.setAutoCommit(false);
    try (Statement s = conn.createStatement()) {
      s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      Catalog catalog = catalog(conn, spec.tables());
      List<DdlCapture.HistoryEntry> history = DdlCapture.history(conn, changefeed);
      conn.commit();
      return TableHistory.tablesAt(catalog.tables(), history, spec.tables(), position);
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(auto);
    }
  }

  private static String tableList(Collection<UpstreamTable> tables) {
    return tables.stream().map(t -> SqlText.qualified(t.schema(), t.name())).collect(Collectors.joining(", "));
  }

  /** The captured tables the publication does not publish. */
  private static List<UpstreamTable> unpublished(Connection conn, String publication, Catalog catalog) throws SQLException {
    Set<String> published = new HashSet<>();
    try (PreparedStatement s = conn.prepareStatement("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
      s.setString(1, publication);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          published.add(r.getString(1));
        }
      }
    }
    return catalog.tables().values().stream().filter(t -> !published.contains(t.qualifiedName())).toList();
  }

  /** Drops what {@link #prepare} created: the anchor slot, and the publication (and its registration) when Feedline owns it. */
  static void release(Connection conn, SourceSpec spec, String changefeed) throws SQLException {
    dropSlot(conn, SourceSpec.anchorSlot(changefeed));
    DdlCapture.forget(conn, changefeed);
    if (spec.ownsPublication()) {
      DdlCapture.unregister(conn, spec.publicationFor(changefeed));
      execute(conn, "DROP PUBLICATION IF EXISTS " + SqlText.ident(spec.publicationFor(changefeed)));
    }
  }

  /**
   * Moves the anchor slot up to {@code lsn} (never down; a slot in use by another node's advance is left for
   * the next round).
   */
  static void advanceAnchor(Connection conn, String anchor, long lsn) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT pg_replication_slot_advance(slot_name, ?::pg_lsn) FROM pg_replication_slots "
        + "WHERE slot_name = ? AND NOT active AND confirmed_flush_lsn < ?::pg_lsn")) {
      s.setString(1, Lsn.format(lsn));
      s.setString(2, anchor);
      s.setString(3, Lsn.format(lsn));
      s.execute();
    }
  }

  /** The WAL bytes the anchor slot holds back (from its restart LSN to the server's current WAL), or -1 without a slot. */
  static long retainedBytes(Connection conn, String anchor) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, anchor);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getLong(1) : -1;
      }
    }
  }

  /** The slot's confirmed position ({@code X/Y}), or null when there is no such slot. */
  static String slotPosition(Connection conn, String slot) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
      s.setString(1, slot);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getString(1) : null;
      }
    }
  }

  private static List<String> names(Array array) throws SQLException {
    return array == null ? List.of() : Arrays.stream((Object[]) array.getArray()).map(String::valueOf).toList();
  }

  private static String single(Connection conn, String sql) throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    }
  }

  private static void execute(Connection conn, String sql) throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.execute(sql);
    }
  }

  private static InvalidEndpointException refused(String reason) {
    return new InvalidEndpointException("the source cannot capture changes: " + reason);
  }
}
