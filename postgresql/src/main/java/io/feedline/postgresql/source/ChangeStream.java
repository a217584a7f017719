package io.feedline.postgresql.source;

/**
 * A node's stream of one changefeed's upstream changes, as {@link PostgresSource} drives it: (re)started at
 * a position under a generation number, reporting through a {@link ReplicationReader.Listener}.
 * {@link ReplicationReader} reads PostgreSQL; tests drive the source with a scripted one.
 */
interface ChangeStream {

  /** (Re)starts at {@code from} as {@code generation}; a later call supersedes an earlier one. */
  void start(long generation, long from);

  /** The changefeed's persisted checkpoint: what the upstream must still keep starts above it. */
  void advanceAnchor(long checkpoint);

  void close();
}
