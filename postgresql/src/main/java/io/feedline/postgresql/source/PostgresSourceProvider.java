package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceProvider;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.proto.PositionKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The {@code postgresql} source: logical replication with {@code pgoutput}. A changefeed's create readies the
 * upstream ({@link Upstream#prepare}: checks, publication, anchor slot) and starts at the anchor slot's
 * consistent point; its positions are commit LSNs ({@link PositionKind#POSITION_KIND_LSN}). Each node that
 * runs dispatchers of the changefeed opens one {@link PostgresSource}: one stream, shared by them.
 */
public final class PostgresSourceProvider implements SourceProvider {

  /** What one node's stream of one changefeed may hold for its dispatchers before it stops reading. */
  static final long BUFFER_BYTES = 64L << 20;

  private final Map<String, String> env;

  public PostgresSourceProvider() {
    this(System.getenv());
  }

  /** @param env where {@code PGPASSWORD} is looked up */
  PostgresSourceProvider(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public String scheme() {
    return "postgresql";
  }

  @Override
  public PositionKind positions() {
    return PositionKind.POSITION_KIND_LSN;
  }

  @Override
  public Future<Source> open(EndpointUri uri, EndpointContext context) {
    SourceSpec spec;
    try {
      spec = SourceSpec.parse(uri, env);
    } catch (InvalidEndpointException e) {
      return Future.failedFuture(e);
    }
    if (context.changefeed().isEmpty()) {
      return Future.failedFuture(new InvalidEndpointException("a postgresql source reads for one changefeed: open it with the changefeed's id"));
    }
    CapturedTables tables = new CapturedTables();
    // Asked from the data lane too: its queries must not run on the lane's own thread.
    WorkerExecutor io = context.blockingIo();
    PostgresSource.PastTables history = new PostgresSource.PastTables() {
      @Override
      public Future<List<TableHistory.Table>> tablesAt(long position) {
        return io.executeBlocking(() -> upstream(spec, conn -> Upstream.tablesAt(conn, spec, context.changefeed(), position)), false);
      }

      @Override
      public Future<Void> close() {
        return io.close();
      }
    };
    // The definitions must be at hand before the first schemaAt, which may come before the stream starts.
    return io.<Source>executeBlocking(() -> {
      tables.baseline(upstream(spec, conn -> Upstream.catalog(conn, spec.tables()).tables()));
      ByteBudget budget = new ByteBudget(BUFFER_BYTES);
      return new PostgresSource(context.changefeed(), context.scheduler(), tables, history, budget,
          new SourceMetrics(context.metrics(), Clock.systemUTC(), context.changefeed()), context.checkpoints(),
          listener -> new ReplicationReader(spec, context.changefeed(), tables, budget, listener));
    }, false).onFailure(err -> io.close());
  }

  @Override
  public Future<Long> prepare(EndpointUri uri, String changefeed, long requestedStart, Vertx vertx) {
    SourceSpec spec = SourceSpec.parse(uri, env);
    return vertx.executeBlocking(() -> {
      long start = upstream(spec, conn -> Upstream.prepare(conn, spec, changefeed));
      if (requestedStart != 0 && requestedStart < start) {
        throw new InvalidEndpointException("start position " + Lsn.format(requestedStart) + " is before the upstream's changes begin for "
            + "this changefeed (" + Lsn.format(start) + "); leave --start-ts out to start there");
      }
      return requestedStart != 0 ? requestedStart : start;
    }, false);
  }

  @Override
  public Future<Void> release(EndpointUri uri, String changefeed, Vertx vertx) {
    SourceSpec spec = SourceSpec.parse(uri, env);
    return vertx.executeBlocking(() -> {
      try (Connection conn = Jdbc.connect(spec.endpoint(), false)) {
        Upstream.release(conn, spec, changefeed);
        return null;
      } catch (SQLException e) {
        throw new IllegalStateException("cannot drop replication slot " + SourceSpec.anchorSlot(changefeed)
            + (spec.ownsPublication() ? " and publication " + spec.publicationFor(changefeed) : "") + " at " + spec.endpoint() + ": "
            + e.getMessage() + " (drop it by hand: SELECT pg_drop_replication_slot('" + SourceSpec.anchorSlot(changefeed) + "'))", e);
      }
    }, false);
  }

  @FunctionalInterface
  private interface UpstreamWork<T> {
    T run(Connection conn) throws SQLException;
  }

  /** Runs {@code work} on a connection of its own to the source's database (blocking: on a worker thread). */
  private static <T> T upstream(SourceSpec spec, UpstreamWork<T> work) {
    try (Connection conn = Jdbc.connect(spec.endpoint(), false)) {
      return work.run(conn);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot use postgresql source " + spec.endpoint() + ": " + e.getMessage(), e);
    }
  }
}
