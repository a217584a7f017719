package io.feedline.postgresql.check;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.check.CheckInputException;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.DatagenReplay;
import io.feedline.dispatcher.check.TableStateCheck;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.postgresql.sql.SqlText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code feedline check --sink postgresql://...}: reads what the database holds (every table of the
 * datagen source, and the span checkpoints Feedline recorded in {@code feedline.spans} with them) and
 * compares it with the source replayed to those checkpoints ({@link TableStateCheck}). Runs from the
 * command line, off any event loop: it waits for its queries.
 */
public final class PostgresSinkCheck {

  private static final long QUERY_SECONDS = 120;

  private PostgresSinkCheck() {}

  /**
   * @param changefeed the changefeed whose checkpoints to use; needed only when several wrote to the schema
   * @param env where {@code PGPASSWORD} is looked up
   */
  public static CheckReport check(String sourceUri, String sinkUri, Optional<String> changefeed, OptionalLong from, OptionalLong until,
      Map<String, String> env) {
    DatagenSpec datagen = DatagenReplay.spec(sourceUri);
    EndpointUri parsed = EndpointUri.parse("sink", sinkUri);
    PostgresEndpoint endpoint = PostgresEndpoint.parse("sink", parsed, env);
    Vertx vertx = Vertx.vertx();
    Pool pool = endpoint.pool(vertx, "feedline-check");
    SqlConnection conn = null;
    try {
      conn = await(pool.getConnection(), endpoint);
      // One snapshot for the checkpoints and the tables: a changefeed still writing commits rows and checkpoints together.
      await(conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(), endpoint);
      String id = changefeed(conn, endpoint, changefeed);
      List<TableStateCheck.SpanCheckpoint> spans = new ArrayList<>();
      long trigger = -1;
      long since = Long.MAX_VALUE;
      for (Row r : await(conn.preparedQuery("SELECT table_id, start_key, end_key, checkpoint_ts, since_ts FROM feedline.spans "
          + "WHERE changefeed = $1 AND NOT redo").execute(Tuple.of(id)), endpoint)) {
        long table = r.getLong(0);
        long checkpoint = r.getLong(3);
        since = Math.min(since, r.getLong(4));
        if (table == 0) {
          trigger = Math.max(trigger, checkpoint);
        } else {
          spans.add(new TableStateCheck.SpanCheckpoint(table, ByteString.copyFrom(r.getBuffer(1).getBytes()),
              ByteString.copyFrom(r.getBuffer(2).getBytes()), checkpoint));
        }
      }
      if (trigger < 0) {
        throw new CheckInputException("changefeed " + id + " has recorded no table trigger checkpoint in " + endpoint + " yet");
      }
      long after = from.orElse(since);
      Map<Long, Map<Long, Map<String, String>>> actual = tables(conn, endpoint, datagen.tables());
      return TableStateCheck.compare(datagen, after, trigger, spans, actual, until);
    } finally {
      try {
        if (conn != null) {
          conn.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // closing a client we are done with: nothing to report
      }
    }
  }

  private static String changefeed(SqlConnection conn, PostgresEndpoint endpoint, Optional<String> wanted) {
    Set<String> known = new TreeSet<>();
    boolean schema = await(conn.query("SELECT to_regclass('feedline.changefeeds') IS NOT NULL").execute(), endpoint).iterator().next().getBoolean(0);
    if (schema) {
      await(conn.preparedQuery("SELECT changefeed FROM feedline.changefeeds WHERE target_schema = $1").execute(Tuple.of(endpoint.schema())),
          endpoint).forEach(r -> known.add(r.getString(0)));
    }
    if (wanted.isPresent()) {
      if (!known.contains(wanted.get())) {
        throw new CheckInputException("changefeed " + wanted.get() + " has written nothing to schema " + endpoint.schema() + " of " + endpoint
            + (known.isEmpty() ? "" : " (these have: " + String.join(", ", known) + ")"));
      }
      return wanted.get();
    }
    if (known.size() != 1) {
      throw new CheckInputException(known.isEmpty()
          ? "no Feedline changefeed has written to schema " + endpoint.schema() + " of " + endpoint + " yet"
          : "several changefeeds wrote to schema " + endpoint.schema() + " (" + String.join(", ", known) + "): give --changefeed");
    }
    return known.iterator().next();
  }

  /** Every source table present downstream, its rows by key ({@code id}) as column to text. */
  private static Map<Long, Map<Long, Map<String, String>>> tables(SqlConnection conn, PostgresEndpoint endpoint, int count) {
    Set<String> present = new TreeSet<>();
    await(conn.preparedQuery("SELECT tablename FROM pg_tables WHERE schemaname = $1").execute(Tuple.of(endpoint.schema())), endpoint)
        .forEach(r -> present.add(r.getString(0)));
    Map<Long, Map<Long, Map<String, String>>> out = new HashMap<>();
    for (long table = 1; table <= count; table++) {
      String name = "t" + table;
      if (!present.contains(name)) {
        continue;
      }
      Map<Long, Map<String, String>> rows = new HashMap<>();
      String sql = "SELECT row_to_json(t)::text FROM " + SqlText.qualified(endpoint.schema(), name) + " t";
      for (Row r : await(conn.query(sql).execute(), endpoint)) {
        JsonObject json = new JsonObject(r.getString(0));
        Map<String, String> row = new LinkedHashMap<>();
        json.forEach(e -> row.put(e.getKey(), e.getValue() == null ? null : e.getValue().toString()));
        rows.put(json.getLong("id"), row);
      }
      out.put(table, rows);
    }
    return out;
  }

  private static <T> T await(Future<T> future, PostgresEndpoint endpoint) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(QUERY_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new CheckInputException("cannot read " + endpoint + ": " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new CheckInputException("no answer from " + endpoint + " within " + QUERY_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CheckInputException("interrupted");
    }
  }
}
