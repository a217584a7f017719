package io.feedline.postgresql.source;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.postgresql.source.PgOutputDecoder.MalformedMessageException;
import io.feedline.postgresql.source.PgOutputMessage.Tuple;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Turns the {@code pgoutput} messages of one stream into whole transactions of change events, with
 * positions taken from the WAL alone, so that every node reading the same WAL gives every change the same
 * position (DESIGN: a span that moves must neither skip nor repeat rows):
 * <ul>
 *   <li>a row change's commit ts is its transaction's commit LSN;</li>
 *   <li>the {@code n} schema changes of a transaction (TRUNCATE from {@code pgoutput}; CREATE TABLE, ADD and
 *       DROP COLUMN, DROP TABLE from the messages of the upstream's DDL trigger, see {@link DdlCapture}) come
 *       just below it, at {@code commitLsn - n + k} for the {@code k}-th in the order they ran: after every earlier
 *       transaction (each schema change writes WAL of its own, more than a byte of it, between the previous commit
 *       and this one; at most {@value #MAX_DDLS_PER_TRANSACTION} per transaction) and after a
 *       resolved position the stream reports (see {@link ReplicationReader}), before the transaction's rows,
 *       and never two at one ts. Rows the transaction changed before truncating or dropping their table are
 *       dropped: the DDL ends them within the same atomic transaction; rows written before a DROP COLUMN lose
 *       the column.</li>
 * </ul>
 * An UPDATE that changes a row's key becomes a DELETE of the old key and an INSERT of the new one, each
 * routed to the span of its own key.
 */
final class ChangeAssembler {

  /** Schema changes one transaction may carry (their positions sit between two commit records). */
  static final int MAX_DDLS_PER_TRANSACTION = 1024;

  /**
   * A committed transaction's events of captured tables, in the order the source delivers them.
   *
   * @param ddlHistory the DDL history entries the transaction made (see {@link DdlCapture}), captured or not
   * @param definitions how the transaction's DDLs and {@code Relation} messages define tables from where on
   */
  record Transaction(long commitLsn, long commitTimeMicros, List<ChangeEvent> events, List<DdlEntry> ddlHistory, List<Definition> definitions) {}

  /** A DDL history entry, and the position of the last event it became (-1: none, the changefeed does not capture it). */
  record DdlEntry(long id, long position) {}

  /** A captured table as defined from {@code position} on; {@code table} null: dropped there. */
  record Definition(long oid, long position, UpstreamTable table) {}

  /** The captured table with an OID as the stream found it at its start, or null when unknown. */
  @FunctionalInterface
  interface TableLookup {
    UpstreamTable table(long oid);
  }

  /** A DDL event before its position is known. */
  private record PendingDdl(long oid, DdlEvent.Type type, String tableName, String query, String column) {

    PendingDdl(long oid, DdlEvent.Type type, String tableName, String query) {
      this(oid, type, tableName, query, null);
    }
  }

  /** A definition before its position is known: that of the {@code afterDdl}-th DDL; -1 for a Relation message's. */
  private record PendingDefinition(long oid, int afterDdl, UpstreamTable table) {}

  private final TableLookup lookup;
  private final UpstreamTable.TypeNamer typeNamer;
  private final TableRules rules;
  /** The captured tables as this stream has defined them; a dropped one maps to null. */
  private final Map<Long, UpstreamTable> tables = new HashMap<>();
  private PgOutputMessage.Begin open;
  private final List<RowChange> rows = new ArrayList<>();
  private final List<PendingDdl> ddls = new ArrayList<>();
  /** The transaction's history entries, each with the index of its last DDL event (-1: none). */
  private final List<long[]> history = new ArrayList<>();
  private final List<PendingDefinition> defined = new ArrayList<>();

  ChangeAssembler(TableLookup lookup, UpstreamTable.TypeNamer typeNamer, TableRules rules) {
    this.lookup = lookup;
    this.typeNamer = typeNamer;
    this.rules = rules;
  }

  /**
   * Takes the next message of the stream.
   *
   * @return the transaction a COMMIT completed, else null
   */
  Transaction accept(PgOutputMessage message) {
    if (message instanceof PgOutputMessage.Begin b) {
      if (open != null) {
        throw new MalformedMessageException("BEGIN of transaction " + b.xid() + " inside transaction " + open.xid());
      }
      open = b;
    } else if (message instanceof PgOutputMessage.Commit c) {
      return commit(c);
    } else if (message instanceof PgOutputMessage.Relation r) {
      relation(r);
    } else if (message instanceof PgOutputMessage.Insert i) {
      row(i.relation(), t -> List.of(change(t, RowChange.Op.INSERT, null, i.after())));
    } else if (message instanceof PgOutputMessage.Update u) {
      row(u.relation(), t -> update(t, u));
    } else if (message instanceof PgOutputMessage.Delete d) {
      row(d.relation(), t -> List.of(change(t, RowChange.Op.DELETE, d.before(), null)));
    } else if (message instanceof PgOutputMessage.Truncate t) {
      inTransaction("TRUNCATE");
      for (long oid : t.relations()) {
        UpstreamTable table = known(oid);
        if (table != null) {
          ddls.add(new PendingDdl(oid, DdlEvent.Type.TRUNCATE_TABLE, table.name(), "TRUNCATE TABLE " + quoted(table)));
          // What the transaction wrote into the table before emptying it is gone with it.
          rows.removeIf(r -> r.tableId() == oid);
        }
      }
    } else if (message instanceof PgOutputMessage.Message m && m.transactional() && m.prefix().equals(DdlCapture.MESSAGE_PREFIX)) {
      inTransaction("a schema change");
      schemaChange(m);
    }
    // Type names are read from the catalog (format_type) when a column of a new type appears; changes
    // replicated in (Origin) are captured like local ones; other messages are not the source's.
    return null;
  }

  /** The table as this stream knows it now: defined by the stream, else as the stream found it; null if not captured. */
  private UpstreamTable known(long oid) {
    return tables.containsKey(oid) ? tables.get(oid) : lookup.table(oid);
  }

  private void relation(PgOutputMessage.Relation r) {
    UpstreamTable known = known(r.oid());
    UpstreamTable table;
    if (known != null) {
      table = known.reshaped(r, typeNamer);
    } else if (!tables.containsKey(r.oid()) && rules.captures(r.namespace(), r.name())
        && r.columns().stream().anyMatch(PgOutputMessage.Column::key)) {
      // Published and captured, yet unknown to the catalog now: dropped since (a stream that resumes from before
      // the DROP). Its key is what the message marks as the replica identity (a table without one is not captured).
      table = UpstreamTable.of(r, typeNamer);
    } else {
      return;
    }
    tables.put(r.oid(), table);
    defined.add(new PendingDefinition(r.oid(), -1, table));
  }

  /**
   * A message of the upstream's DDL trigger: a table created, altered or dropped, with its definition after
   * and before (as the trigger last recorded it). Whether the changefeed captures the table before and after
   * decides the events: a table that starts being captured (created, or given a key) is a CREATE TABLE, one
   * captured throughout gets its columns added and dropped, and a captured table that is dropped a DROP TABLE.
   * Decided from the message alone, so that every node decides alike.
   */
  private void schemaChange(PgOutputMessage.Message m) {
    JsonObject change;
    try {
      change = new JsonObject(new String(m.content(), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw malformed(m, "is not JSON: " + e.getMessage());
    }
    int ddlsBefore = ddls.size();
    long entry;
    try {
      entry = change.getLong("id");
      schemaChange(change.getLong("oid"), change.getString("kind"), change.getJsonObject("before"), change.getJsonObject("table"));
    } catch (MalformedMessageException e) {
      throw e;
    } catch (RuntimeException e) {
      throw malformed(m, "is not one: " + change);
    }
    history.add(new long[] {entry, ddls.size() > ddlsBefore ? ddls.size() - 1 : -1});
  }

  private static MalformedMessageException malformed(PgOutputMessage.Message m, String what) {
    return new MalformedMessageException("a " + DdlCapture.MESSAGE_PREFIX + " message at " + Lsn.format(m.lsn()) + " " + what);
  }

  /**
   * @param before the table as the trigger last recorded it (null: never, for a table it did not see before)
   * @param after the table now, for a drop only its {@code schema} and {@code name}
   */
  private void schemaChange(long oid, String kind, JsonObject before, JsonObject after) {
    boolean drop = "drop".equals(kind);
    boolean capturedAfter = !drop && captured(after);
    // A table the trigger never recorded (it predates the capture) counts as captured before when it is after.
    boolean capturedBefore = !"create".equals(kind) && (before != null ? captured(before) : drop ? captured(after) : capturedAfter);
    int ddlsBefore = ddls.size();
    if (drop && capturedBefore) {
      String name = after.getString("name");
      ddls.add(new PendingDdl(oid, DdlEvent.Type.DROP_TABLE, name, "DROP TABLE " + SqlText.qualified(after.getString("schema"), name)));
      rows.removeIf(r -> r.tableId() == oid);
      tables.put(oid, null);
      defineAtLastDdl(oid, null);
      return;
    }
    if (!capturedAfter) {
      return; // not captured, or leaving the capture otherwise (its key dropped, renamed out of the rules): left as it is
    }
    UpstreamTable table = UpstreamTable.of(oid, after);
    if (!capturedBefore) {
      ddls.add(new PendingDdl(oid, DdlEvent.Type.CREATE_TABLE, table.name(), "CREATE TABLE " + quoted(table)));
    } else if (before != null) {
      columnChanges(oid, table, before, after);
    }
    tables.put(oid, table);
    if (ddls.size() > ddlsBefore) {
      defineAtLastDdl(oid, table);
    } else {
      defined.add(new PendingDefinition(oid, -1, table)); // as a Relation message would: for the transaction's rows
    }
  }

  private boolean captured(JsonObject table) {
    return table.getBoolean("keyed", true) && rules.captures(table.getString("schema"), table.getString("name"));
  }

  /** Columns told apart by their number: a renamed column is neither added nor dropped. */
  private void columnChanges(long oid, UpstreamTable table, JsonObject before, JsonObject after) {
    Map<Integer, JsonObject> was = columnsByNumber(before);
    Map<Integer, JsonObject> is = columnsByNumber(after);
    is.forEach((number, column) -> {
      if (!was.containsKey(number)) {
        String name = column.getString("name");
        ddls.add(new PendingDdl(oid, DdlEvent.Type.ADD_COLUMN, table.name(),
            "ALTER TABLE " + quoted(table) + " ADD COLUMN " + SqlText.ident(name) + " " + column.getString("type"), name));
      }
    });
    was.forEach((number, column) -> {
      if (!is.containsKey(number)) {
        String name = column.getString("name");
        ddls.add(new PendingDdl(oid, DdlEvent.Type.DROP_COLUMN, table.name(),
            "ALTER TABLE " + quoted(table) + " DROP COLUMN " + SqlText.ident(name), name));
        dropColumn(oid, name);
      }
    });
  }

  private static Map<Integer, JsonObject> columnsByNumber(JsonObject table) {
    Map<Integer, JsonObject> out = new TreeMap<>();
    for (Object c : table.getJsonArray("columns")) {
      JsonObject column = (JsonObject) c;
      out.put(column.getInteger("number"), column);
    }
    return out;
  }

  /** The rows the transaction wrote into the table before the column went lose it. */
  private void dropColumn(long oid, String column) {
    rows.replaceAll(r -> r.tableId() != oid ? r
        : new RowChange(r.tableId(), r.commitTs(), r.op(), r.key(), without(r.before(), column), without(r.after(), column)));
  }

  private static Map<String, Object> without(Map<String, Object> image, String column) {
    if (!image.containsKey(column)) {
      return image;
    }
    Map<String, Object> out = new LinkedHashMap<>(image);
    out.remove(column);
    return Collections.unmodifiableMap(out);
  }

  /** {@code table} (null: dropped) from the DDL just added on. */
  private void defineAtLastDdl(long oid, UpstreamTable table) {
    defined.add(new PendingDefinition(oid, ddls.size() - 1, table));
  }

  private Transaction commit(PgOutputMessage.Commit c) {
    if (open == null) {
      throw new MalformedMessageException("COMMIT at " + Lsn.format(c.commitLsn()) + " outside a transaction");
    }
    if (ddls.size() > MAX_DDLS_PER_TRANSACTION) {
      throw new MalformedMessageException("the transaction committed at " + Lsn.format(c.commitLsn()) + " makes " + ddls.size()
          + " schema changes of captured tables; at most " + MAX_DDLS_PER_TRANSACTION + " per transaction can be positioned");
    }
    long first = c.commitLsn() - ddls.size();
    List<ChangeEvent> events = new ArrayList<>(ddls.size() + rows.size());
    for (int k = 0; k < ddls.size(); k++) {
      PendingDdl ddl = ddls.get(k);
      events.add(new DdlEvent(ddl.oid(), first + k, ddl.type(), ddl.tableName(), ddl.query(), ddl.column()));
    }
    for (RowChange r : rows) {
      events.add(new RowChange(r.tableId(), c.commitLsn(), r.op(), r.key(), r.before(), r.after()));
    }
    List<Definition> definitions = new ArrayList<>(defined.size());
    for (int i = 0; i < defined.size(); i++) {
      PendingDefinition d = defined.get(i);
      if (d.afterDdl() >= 0) {
        definitions.add(new Definition(d.oid(), first + d.afterDdl(), d.table()));
      } else if (defined.subList(i + 1, defined.size()).stream().noneMatch(later -> later.oid() == d.oid())) {
        // A Relation message's shape holds for the transaction's rows, at its commit, unless a later DDL of the
        // table in it changed that (the rows before the DDL were decoded with it; the sink needs the last one).
        definitions.add(new Definition(d.oid(), c.commitLsn(), d.table()));
      }
    }
    List<DdlEntry> entries = history.stream().map(h -> new DdlEntry(h[0], h[1] < 0 ? -1 : first + h[1])).toList();
    Transaction done = new Transaction(c.commitLsn(), c.commitTimeMicros(), List.copyOf(events), entries, List.copyOf(definitions));
    open = null;
    rows.clear();
    ddls.clear();
    history.clear();
    defined.clear();
    return done;
  }

  private void row(long relation, Function<UpstreamTable, List<RowChange>> changes) {
    inTransaction("a row change");
    UpstreamTable table = tables.get(relation);
    if (table == null) {
      if (!tables.containsKey(relation) && lookup.table(relation) != null) {
        throw new MalformedMessageException("a change of table " + relation + " before its RELATION message");
      }
      return; // not captured
    }
    rows.addAll(changes.apply(table));
  }
  private List<RowChange> update(UpstreamTable table, PgOutputMessage.Update u) {
    RowChange after = change(table, RowChange.Op.UPDATE, u.before(), u.after());
    if (u.before() == null) {
      return List.of(after);
    }
    ByteString oldKey = key(table, u.before());
    if (oldKey.equals(after.key())) {
      return List.of(after);
    }
    // The key changed: the old row leaves its span and the new one enters its own.
    return List.of(change(table, RowChange.Op.DELETE, u.before(), null), change(table, RowChange.Op.INSERT, null, u.after()));
  }

  /** A change with a placeholder commit ts (the commit's LSN is set when it arrives). */
  private RowChange change(UpstreamTable table, RowChange.Op op, Tuple before, Tuple after) {
    Map<String, Object> beforeImage = before == null ? Map.of() : image(table, before);
    Map<String, Object> afterImage = after == null ? Map.of() : image(table, after);
    ByteString key = key(table, after != null ? after : before);
    return new RowChange(table.oid(), 0, op, key, beforeImage, afterImage);
  }

  /**
   * A tuple as column name to value. A key-only old tuple ({@code K}) holds only the key columns; an
   * unchanged TOASTed value the server did not send is left out, so a sink keeps the value it has.
   */
  private static Map<String, Object> image(UpstreamTable table, Tuple tuple) {
    if (tuple.size() != table.columns().size()) {
      throw new MalformedMessageException("a row of " + table.qualifiedName() + " has " + tuple.size() + " values for "
          + table.columns().size() + " columns");
    }
    Map<String, Object> image = new LinkedHashMap<>();
    for (int i = 0; i < tuple.size(); i++) {
      if (tuple.isUnchangedToast(i)) {
        continue;
      }
      String value = tuple.values().get(i);
      if (value == null && tuple.kinds()[i] != Tuple.NULL) {
        continue;
      }
      image.put(table.columns().get(i).name(), PgTypes.value(table.typeOids().get(i), value));
    }
    return Collections.unmodifiableMap(image);
  }

  private static ByteString key(UpstreamTable table, Tuple tuple) {
    List<Integer> types = new ArrayList<>(table.primaryKey().size());
    List<String> texts = new ArrayList<>(table.primaryKey().size());
    for (String column : table.primaryKey()) {
      int index = table.columnIndex(column);
      if (index < 0 || index >= tuple.size() || tuple.isUnchangedToast(index)) {
        throw new MalformedMessageException("a row of " + table.qualifiedName() + " carries no value for its key column " + column);
      }
      types.add(table.typeOids().get(index));
      texts.add(tuple.values().get(index));
    }
    return KeyEncoding.encode(types, texts);
  }

  private static String quoted(UpstreamTable table) {
    return SqlText.qualified(table.schema(), table.name());
  }

  private void inTransaction(String what) {
    if (open == null) {
      throw new MalformedMessageException(what + " outside a transaction");
    }
  }
}
