package io.feedline.postgresql.source;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.postgresql.source.PgOutputDecoder.MalformedMessageException;
import io.feedline.postgresql.source.PgOutputMessage.Tuple;
import io.feedline.postgresql.sql.SqlText;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns the {@code pgoutput} messages of one stream into whole transactions of change events, with
 * positions taken from the WAL alone, so that every node reading the same WAL gives every change the same
 * position (DESIGN: a span that moves must neither skip nor repeat rows):
 * <ul>
 *   <li>a row change's commit ts is its transaction's commit LSN;</li>
 *   <li>the {@code n} schema changes of a transaction (TRUNCATE) come just below it, at
 *       {@code commitLsn - n + k} for the {@code k}-th: after every earlier transaction (a commit record
 *       takes more than {@value #MAX_DDLS_PER_TRANSACTION} bytes of WAL) and after a resolved position
 *       the stream reports (see {@link ReplicationReader}), before the transaction's rows, and never two at one ts. Rows the transaction changed before truncating their table are dropped:
 *       the truncate ends them within the same atomic transaction.</li>
 * </ul>
 * An UPDATE that changes a row's key becomes a DELETE of the old key and an INSERT of the new one, each
 * routed to the span of its own key.
 */
final class ChangeAssembler {

  /** Schema changes one transaction may carry (their positions sit between two commit records). */
  static final int MAX_DDLS_PER_TRANSACTION = 24;

  /** A committed transaction's events of captured tables, in the order the source delivers them. */
  record Transaction(long commitLsn, long commitTimeMicros, List<ChangeEvent> events) {}

  /** The captured table with an OID, or null when the changefeed does not capture it. */
  @FunctionalInterface
  interface TableLookup {
    UpstreamTable table(long oid);
  }

  private final TableLookup lookup;
  private final UpstreamTable.TypeNamer typeNamer;
  private final Map<Long, UpstreamTable> tables = new HashMap<>();
  private PgOutputMessage.Begin open;
  private final List<RowChange> rows = new ArrayList<>();
  private final List<Long> truncated = new ArrayList<>();
  private final Map<Long, UpstreamTable> reshaped = new LinkedHashMap<>();

  ChangeAssembler(TableLookup lookup, UpstreamTable.TypeNamer typeNamer) {
    this.lookup = lookup;
    this.typeNamer = typeNamer;
  }

  /** The tables whose shape a RELATION message changed since the previous call, which forgets them. */
  List<UpstreamTable> tablesChanged() {
    List<UpstreamTable> changed = List.copyOf(reshaped.values());
    reshaped.clear();
    return changed;
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
      UpstreamTable known = tables.containsKey(r.oid()) ? tables.get(r.oid()) : lookup.table(r.oid());
      if (known != null) {
        UpstreamTable table = known.reshaped(r, typeNamer);
        tables.put(r.oid(), table);
        reshaped.put(table.oid(), table);
      }
    } else if (message instanceof PgOutputMessage.Insert i) {
      row(i.relation(), t -> List.of(change(t, RowChange.Op.INSERT, null, i.after())));
    } else if (message instanceof PgOutputMessage.Update u) {
      row(u.relation(), t -> update(t, u));
    } else if (message instanceof PgOutputMessage.Delete d) {
      row(d.relation(), t -> List.of(change(t, RowChange.Op.DELETE, d.before(), null)));
    } else if (message instanceof PgOutputMessage.Truncate t) {
      inTransaction("TRUNCATE");
      for (long oid : t.relations()) {
        if (tables.containsKey(oid) || lookup.table(oid) != null) {
          truncated.add(oid);
          // What the transaction wrote into the table before emptying it is gone with it.
          rows.removeIf(r -> r.tableId() == oid);
        }
      }
    }
    // Type names are read from the catalog (format_type) when a column of a new type appears; changes
    // replicated in (Origin) are captured like local ones; messages are the reader's own heartbeats.
    return null;
  }

  private Transaction commit(PgOutputMessage.Commit c) {
    if (open == null) {
      throw new MalformedMessageException("COMMIT at " + Lsn.format(c.commitLsn()) + " outside a transaction");
    }
    if (truncated.size() > MAX_DDLS_PER_TRANSACTION) {
      throw new MalformedMessageException("the transaction committed at " + Lsn.format(c.commitLsn()) + " truncates " + truncated.size()
          + " captured tables; at most " + MAX_DDLS_PER_TRANSACTION + " schema changes per transaction can be positioned");
    }
    List<ChangeEvent> events = new ArrayList<>(truncated.size() + rows.size());
    for (int k = 0; k < truncated.size(); k++) {
      long oid = truncated.get(k);
      UpstreamTable table = tables.containsKey(oid) ? tables.get(oid) : lookup.table(oid);
      events.add(new DdlEvent(oid, c.commitLsn() - truncated.size() + k, DdlEvent.Type.TRUNCATE_TABLE, table.name(),
          "TRUNCATE TABLE " + SqlText.ident(table.schema()) + "." + SqlText.ident(table.name())));
    }
    for (RowChange r : rows) {
      events.add(new RowChange(r.tableId(), c.commitLsn(), r.op(), r.key(), r.before(), r.after()));
    }
    Transaction done = new Transaction(c.commitLsn(), c.commitTimeMicros(), List.copyOf(events));
    open = null;
    rows.clear();
    truncated.clear();
    return done;
  }

  private void row(long relation, Function<UpstreamTable, List<RowChange>> changes) {
    inTransaction("a row change");
    UpstreamTable table = tables.get(relation);
    if (table == null) {
      if (lookup.table(relation) != null) {
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

  private void inTransaction(String what) {
    if (open == null) {
      throw new MalformedMessageException(what + " outside a transaction");
    }
  }
}
