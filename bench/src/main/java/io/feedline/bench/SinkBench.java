package io.feedline.bench;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.schema.TableSchemas;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.postgresql.sql.SqlText;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench sink --sink postgresql://...}: rows per second and batch commit latency of the
 * PostgreSQL sink (one fenced transaction per span batch, spans in parallel over its pool), beside two
 * baselines measured in the same run on the same database: the same rows written by one plain JDBC
 * connection as multi-row {@code INSERT ... ON CONFLICT} statements, and with {@code COPY}, one
 * transaction per batch each. Every method and run writes into a schema of its own, dropped at the end.
 */
@Command(name = "sink", mixinStandardHelpOptions = true,
    description = "Rows/s and p50/p99 batch commit latency of the postgresql sink beside plain INSERT and COPY baselines.")
public final class SinkBench implements Callable<Integer> {

  @Option(names = "--sink", required = true, description = "The database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?...].")
  String sink;

  @Option(names = "--tables", defaultValue = "8", description = "Tables, one span each, written in parallel (default ${DEFAULT-VALUE}).")
  int tables;

  @Option(names = "--rows", defaultValue = "200000", description = "Rows per run and method, over all tables (default ${DEFAULT-VALUE}).")
  int rows;

  @Option(names = "--batch", defaultValue = "1000", description = "Rows per batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Mixin
  BenchRuns runs;

  /** One measured run of one method. */
  record Run(String method, double rowsPerSecond, double p50Millis, double p99Millis) {}

  private static final String SCHEMA_PREFIX = "feedline_bench_";
  private static final TableSchemas TABLES = (id, ts) -> Future.succeededFuture(new TableSchema(id, "t" + id,
      List.of(new ColumnSchema("id", "BIGINT", false), new ColumnSchema("v0", "BIGINT", true), new ColumnSchema("v1", "VARCHAR(24)", true)),
      List.of("id")));

  @Override
  public Integer call() throws Exception {
    runs.count(); // a usage error before any work
    PostgresEndpoint endpoint = PostgresEndpoint.parse("sink", EndpointUri.parse("sink", sink), System.getenv());
    int perTable = Math.max(batch, rows / tables / batch * batch);
    String setup = String.format(Locale.ROOT, "database: %s, %d tables x %d rows (id bigint primary key, v0 bigint, v1 varchar(24)), "
        + "%d rows per batch; each run writes them with the feedline sink, then multi-row INSERT, then COPY",
        PostgresEndpoint.parse("sink", EndpointUri.parse("sink", sink), Map.of()), tables, perTable, batch);
    Vertx vertx = Vertx.vertx();
    try (Connection jdbc = Jdbc.connect(endpoint, false)) {
      jdbc.setAutoCommit(false);
      try {
        return runs.measure("sink", setup, run -> {
          Map<String, Double> figures = new LinkedHashMap<>();
          for (Run r : List.of(feedline(vertx, run, perTable), insert(jdbc, run, perTable), copy(jdbc, run, perTable))) {
            figures.put(r.method() + "_rows_per_s", r.rowsPerSecond());
            figures.put(r.method() + "_p50_ms", r.p50Millis());
            figures.put(r.method() + "_p99_ms", r.p99Millis());
          }
          figures.put("feedline_over_insert", figures.get("feedline_rows_per_s") / figures.get("insert_rows_per_s"));
          figures.put("feedline_over_copy", figures.get("feedline_rows_per_s") / figures.get("copy_rows_per_s"));
          return figures;
        });
      } finally {
        try (Statement s = jdbc.createStatement()) {
          for (String method : List.of("feedline", "insert", "copy")) {
            for (int run = 1; run <= runs.count(); run++) { // IF EXISTS: also after a run that failed midway
              s.execute("DROP SCHEMA IF EXISTS " + SCHEMA_PREFIX + method + "_" + run + " CASCADE");
            }
          }
          jdbc.commit();
        }
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The sink, as a changefeed's dispatchers drive it: every table a span writing its batches one after the other, all at once. */
  private Run feedline(Vertx vertx, int run, int perTable) throws Exception {
    String schema = SCHEMA_PREFIX + "feedline_" + run;
    String uri = sink + (sink.contains("?") ? "&" : "?") + "schema=" + schema;
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), new SimpleMeterRegistry())
        .forChangefeed("bench-" + run + "-" + System.nanoTime()).withSchemas(TABLES);
    Sink out = await(new ProviderEndpoints().openSink(uri, context));
    try {
      DispatcherKey trigger = DispatcherKey.random(new Random(run));
      for (int t = 1; t <= tables; t++) {
        await(out.write(new SinkBatch(trigger, TableSpan.newBuilder().setTableId(0).build(), false, 1, t - 1,
            List.of(new DdlEvent(t, t, DdlEvent.Type.CREATE_TABLE, "t" + t, "CREATE TABLE t" + t)), t)));
      }
      List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
      List<Future<Void>> spans = new ArrayList<>();
      long start = System.nanoTime();
      for (int t = 1; t <= tables; t++) {
        Promise<Void> done = Promise.promise();
        writeBatches(out, t, DispatcherKey.random(new Random(run * 1000L + t)), 0, perTable, latencies, done);
        spans.add(done.future());
      }
      await(Future.all(spans));
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Run("feedline", (double) perTable * tables / seconds, percentile(latencies, 0.50), percentile(latencies, 0.99));
    } finally {
      await(out.close());
    }
  }

  private void writeBatches(Sink out, long table, DispatcherKey writer, int from, int perTable, List<Long> latencies, Promise<Void> done) {
    if (from >= perTable) {
      done.complete();
      return;
    }
    List<ChangeEvent> events = new ArrayList<>(batch);
    long ts = 1_000 + from / batch;
    for (int id = from; id < from + batch; id++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", (long) id);
      row.put("v0", id * 31L);
      row.put("v1", text(table, id));
      events.add(new RowChange(table, ts, RowChange.Op.INSERT, DatagenModel.keyBytes(id), Map.of(), row));
    }
    long started = System.nanoTime();
    out.write(new SinkBatch(writer, TableSpan.newBuilder().setTableId(table).build(), false, 1, ts - 1, events, ts)).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      latencies.add(System.nanoTime() - started);
      writeBatches(out, table, writer, from + batch, perTable, latencies, done);
    });
  }

  /** Baseline: one connection, multi-row INSERT ... ON CONFLICT, one transaction per batch, tables in turn. */
  private Run insert(Connection jdbc, int run, int perTable) throws SQLException {
    String schema = createTables(jdbc, "insert", run);
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < batch; i++) {
      values.append(i == 0 ? "" : ", ").append("(?, ?, ?)");
    }
    List<Long> latencies = new ArrayList<>();
    long start = System.nanoTime();
    for (int from = 0; from < perTable; from += batch) {
      for (int t = 1; t <= tables; t++) {
        long started = System.nanoTime();
        try (PreparedStatement insert = jdbc.prepareStatement("INSERT INTO " + SqlText.qualified(schema, "t" + t) + " (id, v0, v1) VALUES "
            + values + " ON CONFLICT (id) DO UPDATE SET v0 = EXCLUDED.v0, v1 = EXCLUDED.v1")) {
          int p = 1;
          for (int id = from; id < from + batch; id++) {
            insert.setLong(p++, id);
            insert.setLong(p++, id * 31L);
            insert.setString(p++, text(t, id));
          }
          insert.executeUpdate();
        }
        jdbc.commit();
        latencies.add(System.nanoTime() - started);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Run("insert", (double) perTable * tables / seconds, percentile(latencies, 0.50), percentile(latencies, 0.99));
  }

  /** Baseline: one connection, COPY ... FROM STDIN, one transaction per batch, tables in turn. */
  private Run copy(Connection jdbc, int run, int perTable) throws Exception {
    String schema = createTables(jdbc, "copy", run);
    CopyManager copy = new CopyManager(jdbc.unwrap(BaseConnection.class));
    List<Long> latencies = new ArrayList<>();
    long start = System.nanoTime();
    for (int from = 0; from < perTable; from += batch) {
      for (int t = 1; t <= tables; t++) {
        long started = System.nanoTime();
        StringBuilder csv = new StringBuilder(batch * 40);
        for (int id = from; id < from + batch; id++) {
          csv.append(id).append(',').append(id * 31L).append(',').append(text(t, id)).append('\n');
        }
        copy.copyIn("COPY " + SqlText.qualified(schema, "t" + t) + " (id, v0, v1) FROM STDIN (FORMAT csv)", new StringReader(csv.toString()));
        jdbc.commit();
        latencies.add(System.nanoTime() - started);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Run("copy", (double) perTable * tables / seconds, percentile(latencies, 0.50), percentile(latencies, 0.99));
  }

  private String createTables(Connection jdbc, String method, int run) throws SQLException {
    String schema = SCHEMA_PREFIX + method + "_" + run;
    try (Statement s = jdbc.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      for (int t = 1; t <= tables; t++) {
        s.execute("CREATE TABLE " + SqlText.qualified(schema, "t" + t) + " (id bigint PRIMARY KEY, v0 bigint, v1 varchar(24))");
      }
    }
    jdbc.commit();
    return schema;
  }

  private static String text(long table, long id) {
    return "s" + Long.toHexString(table * 1_000_003L + id * 7919L);
  }


  private static double percentile(List<Long> nanos, double q) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    if (sorted.isEmpty()) {
      return 0;
    }
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1)) / 1e6;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
  }
}
