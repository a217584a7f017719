package io.feedline.postgresql.sink;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkProvider;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.Map;

/**
 * Opens {@code postgresql://} sinks: a pool of {@code poolSize} connections per changefeed per node, and
 * Feedline's {@code feedline} schema (created on first use). A sink that cannot connect, authenticate or
 * create its schema fails to open with the server's reason and the URI redacted.
 */
public final class PostgresSinkProvider implements SinkProvider {

  private final Map<String, String> env;

  public PostgresSinkProvider() {
    this(System.getenv());
  }

  /** @param env where {@code PGPASSWORD} is looked up */
  PostgresSinkProvider(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public String scheme() {
    return "postgresql";
  }

  @Override
  public Future<Sink> open(EndpointUri uri, EndpointContext context) {
    PostgresEndpoint endpoint = PostgresEndpoint.parse("sink", uri, env);
    if (context.changefeed().isEmpty()) {
      throw new InvalidEndpointException("a postgresql sink writes for one changefeed: open it with the changefeed's id");
    }
    Pool pool = endpoint.pool(context.vertx(), "feedline-sink-" + context.changefeed());
    return pool.withTransaction(conn -> createSchema(conn, endpoint))
        .<Sink>map(v -> new PostgresSink(pool, endpoint, context.changefeed(), context.schemas(), context.metrics()))
        .recover(err -> pool.close().transform(closed -> Future.failedFuture(
            new IllegalStateException("cannot open postgresql sink " + endpoint + ": " + err.getMessage(), err))));
  }

  private static Future<Void> createSchema(SqlConnection conn, PostgresEndpoint endpoint) {
    Future<Void> done = Future.succeededFuture();
    for (Statement s : FencingTables.createSchema(endpoint.schema())) {
      done = done.compose(v -> conn.preparedQuery(s.sql()).execute(s.params()).mapEmpty());
    }
    return done;
  }
}
