package io.feedline.postgresql.source;

import java.util.List;

/**
 * The messages of PostgreSQL's {@code pgoutput} plugin, protocol version 1, as {@link PgOutputDecoder} reads
 * them ("Logical Replication Message Formats" in the PostgreSQL manual). Positions are LSNs, times are
 * microseconds since 2000-01-01 UTC, as the server sends them; OIDs are unsigned 32-bit, held in a long.
 */
sealed interface PgOutputMessage {

  /** A transaction starts; its changes follow, then its {@link Commit}. */
  record Begin(long finalLsn, long commitTimeMicros, int xid) implements PgOutputMessage {}

  /** The transaction whose changes were just sent committed at {@code commitLsn}. */
  record Commit(long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage {}

  /**
   * A table's shape, sent before the first change of it in a session and again after every change of it.
   *
   * @param replicaIdentity {@code d} (primary key), {@code f} (full row), {@code i} (an index), {@code n} (none)
   */
  record Relation(long oid, String namespace, String name, char replicaIdentity, List<Column> columns) implements PgOutputMessage {}

  /** @param key part of the replica identity (the key an UPDATE or DELETE names its row by) */
  record Column(String name, int typeOid, int typeModifier, boolean key) {}

  /** A data type's name, sent before a relation that uses a type not built in. */
  record Type(long oid, String namespace, String name) implements PgOutputMessage {}

  record Insert(long relation, Tuple after) implements PgOutputMessage {}

  /** @param before the old key ({@code K}) or the old row ({@code O}) when the server sent one, else null */
  record Update(long relation, Tuple before, Tuple after) implements PgOutputMessage {}

  record Delete(long relation, Tuple before) implements PgOutputMessage {}

  record Truncate(List<Long> relations, boolean cascade, boolean restartIdentity) implements PgOutputMessage {}

  /** A message written with {@code pg_logical_emit_message}: transactional ones arrive inside their transaction. */
  record Message(boolean transactional, long lsn, String prefix, byte[] content) implements PgOutputMessage {}

  record Origin(long lsn, String name) implements PgOutputMessage {}

  /**
   * One row's values in text form, by column position.
   *
   * @param values null for SQL NULL and for {@link #UNCHANGED_TOAST}
   * @param kinds per column: {@code n} null, {@code u} an unchanged TOASTed value that was not sent, {@code t} text
   */
  record Tuple(List<String> values, char[] kinds) {

    static final char NULL = 'n';
    static final char UNCHANGED_TOAST = 'u';
    static final char TEXT = 't';

    public int size() {
      return kinds.length;
    }

    public boolean isUnchangedToast(int column) {
      return kinds[column] == UNCHANGED_TOAST;
    }
  }
}
