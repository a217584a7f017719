package io.feedline.bench;

import io.feedline.common.id.ChangefeedId;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.postgresql.connect.Jdbc;
import io.feedline.postgresql.connect.PostgresEndpoint;
import io.feedline.proto.ChangefeedInfo;
import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench replicate}: PostgreSQL to PostgreSQL, Feedline (one node, in this JVM) beside PostgreSQL's
 * own logical replication ({@code CREATE PUBLICATION} / {@code CREATE SUBSCRIPTION}), on the same server and
 * machine, one after the other. Two figures each:
 * <ul>
 *   <li><b>rows/s</b>: writers insert as fast as they can; over a window, the rows that arrive downstream per
 *       second (counted in the tables, exact);</li>
 *   <li><b>lag</b> at a fixed offered load (half of native's median rows/s): a probe row every 100 ms, timed
 *       from its commit upstream until a query downstream sees it; p50 / p99 / max.</li>
 * </ul>
 */
@Command(name = "replicate", mixinStandardHelpOptions = true,
    description = "PostgreSQL to PostgreSQL rows/s and end-to-end lag, Feedline beside native logical replication.")
public final class ReplicateBench implements Callable<Integer> {

  @Option(names = "--postgres", required = true, description = "A superuser URI of the server to use (wal_level = logical), e.g. "
      + "postgresql://postgres@127.0.0.1:5432/postgres; databases feedline_bench_up and feedline_bench_down are created and dropped there.")
  String postgres;

  @Option(names = "--tables", defaultValue = "4", description = "Tables written in parallel (default ${DEFAULT-VALUE}).")
  int tables;

  @Option(names = "--writers", defaultValue = "4", description = "Writer connections (default ${DEFAULT-VALUE}).")
  int writers;

  @Option(names = "--batch", defaultValue = "50", description = "Rows per upstream transaction (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seconds", defaultValue = "15", description = "Length of each measured window (default ${DEFAULT-VALUE}).")
  int seconds;

  @Mixin
  BenchRuns runs;

  private static final String UP = "feedline_bench_up";
  private static final String DOWN = "feedline_bench_down";
  private static final String NATIVE = "native";
  private static final String FEEDLINE = "feedline";
  private static final Duration LIVE = Duration.ofMinutes(2);
  private static final long PROBE_MILLIS = 100;

  record Throughput(double writtenPerSecond, double replicatedPerSecond) {}

  record Lag(double p50, double p99, double max, int probes) {}

  /** Replication from {@link #UP} to {@link #DOWN} by one of the two systems; closing stops and removes it. */
  private interface Replication extends AutoCloseable {
    @Override
    void close() throws Exception;
  }

  private URI base;
  private BenchCluster cluster;
  private NodeRuntime node;

  @Override
  public Integer call() throws Exception {
    runs.count(); // a usage error before any work
    base = URI.create(postgres);
    String setup = String.format(Locale.ROOT, "server: %s; %d tables (id bigint primary key, v bigint, s text), %d writers x %d rows per "
        + "transaction, window %ds; Feedline: 1 node in this JVM on the embedded store. Each run: rows/s replicated while the writers "
        + "run flat out (target: feedline >= 0.5 x native), then end-to-end lag of a probe every %d ms at half of native's rate "
        + "(target: feedline p99 <= 1000 ms)", endpoint(UP), tables, writers, batch, seconds, PROBE_MILLIS);
    try (BenchCluster started = new BenchCluster(1, null, Duration.ofSeconds(10))) {
      cluster = started;
      node = cluster.awaitLeader(Duration.ofMinutes(1));
      return runs.measure("replicate", setup, run -> {
        Throughput nativeRun = throughput(NATIVE, run);
        Throughput feedlineRun = throughput(FEEDLINE, run);
        double rate = nativeRun.replicatedPerSecond() / 2;
        Lag nativeLag = lag(NATIVE, run, rate);
        Lag feedlineLag = lag(FEEDLINE, run, rate);
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("native_written_rows_per_s", nativeRun.writtenPerSecond());
        figures.put("native_rows_per_s", nativeRun.replicatedPerSecond());
        figures.put("feedline_written_rows_per_s", feedlineRun.writtenPerSecond());
        figures.put("feedline_rows_per_s", feedlineRun.replicatedPerSecond());
        figures.put("feedline_over_native", feedlineRun.replicatedPerSecond() / nativeRun.replicatedPerSecond());
        figures.put("offered_rows_per_s", rate);
        figures.put("native_lag_p50_ms", nativeLag.p50());
        figures.put("native_lag_p99_ms", nativeLag.p99());
        figures.put("feedline_lag_p50_ms", feedlineLag.p50());
        figures.put("feedline_lag_p99_ms", feedlineLag.p99());
        figures.put("feedline_lag_max_ms", feedlineLag.max());
        figures.put("lag_probes", (double) feedlineLag.probes());
        return figures;
      });
    } finally {
      try (Connection admin = connect("postgres")) {
        dropDatabases(admin);
      }
    }
  }

  private Throughput throughput(String system, int run) throws Exception {
    createDatabases();
    try (Replication replication = start(system, run); Writers w = new Writers(Double.POSITIVE_INFINITY)) {
      Thread.sleep(3000); // warm up
      long down0 = downstreamRows();
      long up0 = w.rows.get();
      long t0 = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      long down1 = downstreamRows();
      long up1 = w.rows.get();
      double elapsed = (System.nanoTime() - t0) / 1e9;
      return new Throughput((up1 - up0) / elapsed, (down1 - down0) / elapsed);
    }
  }

  private Lag lag(String system, int run, double rate) throws Exception {
    createDatabases();
    List<Double> millis = new ArrayList<>();
    try (Replication replication = start(system, run); Writers w = new Writers(rate);
        Connection up = connect(UP); Connection down = connect(DOWN)) {
      up.setAutoCommit(true);
      Thread.sleep(2000);
      long deadline = System.nanoTime() + seconds * 1_000_000_000L;
      long probe = 0;
      try (PreparedStatement insert = up.prepareStatement("INSERT INTO t1 VALUES (?, 0, 'probe')");
          PreparedStatement seen = down.prepareStatement("SELECT 1 FROM t1 WHERE id = ?")) {
        while (System.nanoTime() < deadline) {
          long next = System.nanoTime() + PROBE_MILLIS * 1_000_000;
          probe--;
          insert.setLong(1, probe);
          insert.executeUpdate();
          long committed = System.nanoTime();
          seen.setLong(1, probe);
          while (!found(seen)) {
            if (System.nanoTime() - committed > LIVE.toNanos()) {
              throw new IllegalStateException(system + ": probe row " + probe + " did not arrive within " + LIVE);
            }
            Thread.sleep(1);
          }
          millis.add((System.nanoTime() - committed) / 1e6);
          Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
        }
      }
    }
    millis.sort(Double::compare);
    return new Lag(percentile(millis, 0.50), percentile(millis, 0.99), millis.get(millis.size() - 1), millis.size());
  }

  /** Starts replicating the (empty) tables and waits until a row written upstream arrives. */
  private Replication start(String system, int run) throws Exception {
    Replication replication = system.equals(NATIVE) ? startNative() : startFeedline(run);
    try (Connection up = connect(UP); Connection down = connect(DOWN)) {
      up.setAutoCommit(true);
      try (Statement s = up.createStatement()) {
        s.execute("INSERT INTO t1 VALUES (-1000000000, 0, 'live')");
      }
      long deadline = System.nanoTime() + LIVE.toNanos();
      try (PreparedStatement seen = down.prepareStatement("SELECT 1 FROM t1 WHERE id = ?")) {
        seen.setLong(1, -1_000_000_000L);
        while (!found(seen)) {
          if (System.nanoTime() > deadline) {
            replication.close();
            throw new IllegalStateException(system + " did not start replicating within " + LIVE);
          }
          Thread.sleep(20);
        }
      }
    }
    return replication;
  }

  private Replication startNative() throws SQLException {
    PgConnectOptions o = endpoint(UP).connectOptions();
    try (Connection up = connect(UP); Connection down = connect(DOWN)) {
      up.setAutoCommit(true);
      down.setAutoCommit(true);
      try (Statement s = up.createStatement()) {
        s.execute("CREATE PUBLICATION bench_native FOR ALL TABLES");
        // Made beforehand: CREATE SUBSCRIPTION creating its own slot on the same server would wait for itself.
        s.execute("SELECT pg_create_logical_replication_slot('bench_native', 'pgoutput')");
      }
      try (Statement s = down.createStatement()) {
        s.execute("CREATE SUBSCRIPTION bench_native CONNECTION 'host=" + o.getHost() + " port=" + o.getPort() + " dbname=" + UP + " user="
            + o.getUser() + (o.getPassword().isEmpty() ? "" : " password=" + o.getPassword()) + "' PUBLICATION bench_native "
            + "WITH (create_slot = false, slot_name = 'bench_native', copy_data = false)");
      }
    }
    return () -> {
      try (Connection down = connect(DOWN); Connection up = connect(UP)) {
        down.setAutoCommit(true);
        up.setAutoCommit(true);
        try (Statement s = down.createStatement()) {
          s.execute("ALTER SUBSCRIPTION bench_native DISABLE");
          s.execute("ALTER SUBSCRIPTION bench_native SET (slot_name = NONE)");
          s.execute("DROP SUBSCRIPTION bench_native");
        }
        awaitSlotIdle(up, "bench_native");
        try (Statement s = up.createStatement()) {
          s.execute("SELECT pg_drop_replication_slot('bench_native')");
        }
      }
    };
  }

  private Replication startFeedline(int run) {
    String id = "replicate-" + run + "-" + System.nanoTime() % 100_000;
    ProviderEndpoints endpoints = new ProviderEndpoints();
    ChangefeedInfo requested = ChangefeedInfo.newBuilder().setId(id).setSourceUri(uri(UP)).setSinkUri(uri(DOWN)).build();
    ChangefeedInfo prepared = ClusterProbe.onContext(node.vertx().getOrCreateContext(), () -> endpoints.prepareSource(requested, node.vertx()));
    ClusterProbe.onCoordinator(node, c -> c.create(prepared));
    return () -> {
      ClusterProbe.onCoordinator(node, c -> c.remove(ChangefeedId.of(id)));
      BenchCluster.awaitTrue(LIVE, id + " removed", () -> ClusterProbe.workingDispatchers(List.of(node)).isEmpty());
      ClusterProbe.onContext(node.vertx().getOrCreateContext(), () -> endpoints.releaseSource(prepared, node.vertx()));
    };
  }

  /** Writer connections inserting batches of rows into the tables in turn, at most {@code rate} rows/s in all. */
  private final class Writers implements AutoCloseable {
    final AtomicLong rows = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    Writers(double rate) {
      for (int w = 0; w < writers; w++) {
        int writer = w;
        Thread t = new Thread(() -> write(writer, rate / writers), "bench-writer-" + w);
        t.start();
        threads.add(t);
      }
    }

    private void write(int writer, double rate) {
      StringBuilder sql = new StringBuilder();
      long next = System.nanoTime();
      try (Connection up = connect(UP); Statement s = up.createStatement()) {
        long id = (long) writer << 40;
        for (int table = 1; running.get(); table = table % tables + 1) {
          sql.setLength(0);
          sql.append("INSERT INTO t").append(table).append(" VALUES ");
          for (int i = 0; i < batch; i++) {
            id++;
            sql.append(i == 0 ? "" : ", ").append('(').append(id).append(", ").append(id * 31).append(", 'row ").append(id).append("')");
          }
          s.execute(sql.toString());
          up.commit();
          rows.addAndGet(batch);
          if (!Double.isInfinite(rate)) {
            next += (long) (batch / rate * 1e9);
            long wait = next - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        failure.set(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      for (Thread t : threads) {
        t.join();
      }
      if (failure.get() != null) {
        throw failure.get();
      }
    }
  }

  private void createDatabases() throws SQLException {
    try (Connection admin = connect("postgres")) {
      dropDatabases(admin);
      admin.setAutoCommit(true);
      try (Statement s = admin.createStatement()) {
        s.execute("CREATE DATABASE " + UP);
        s.execute("CREATE DATABASE " + DOWN);
      }
    }
    for (String db : List.of(UP, DOWN)) {
      try (Connection c = connect(db); Statement s = c.createStatement()) {
        for (int t = 1; t <= tables; t++) {
          s.execute("CREATE TABLE t" + t + " (id bigint PRIMARY KEY, v bigint, s text)");
        }
        c.commit();
      }
    }
  }

  private static void dropDatabases(Connection admin) throws SQLException {
    admin.setAutoCommit(true);
    try (Statement s = admin.createStatement()) {
      for (String slot : slots(admin)) {
        s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
      }
      s.execute("DROP DATABASE IF EXISTS " + UP + " WITH (FORCE)");
      s.execute("DROP DATABASE IF EXISTS " + DOWN + " WITH (FORCE)");
    }
  }

  /** The inactive slots left in the bench's upstream database (by a run that failed half way). */
  private static List<String> slots(Connection admin) throws SQLException {
    List<String> slots = new ArrayList<>();
    try (Statement s = admin.createStatement();
        ResultSet r = s.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE database = '" + UP + "' AND NOT active")) {
      while (r.next()) {
        slots.add(r.getString(1));
      }
    }
    return slots;
  }

  private static void awaitSlotIdle(Connection up, String slot) throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + LIVE.toNanos();
    while (System.nanoTime() < deadline) {
      try (PreparedStatement s = up.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
        s.setString(1, slot);
        try (ResultSet r = s.executeQuery()) {
          if (!r.next() || !r.getBoolean(1)) {
            return;
          }
        }
      }
      Thread.sleep(50);
    }
  }

  private long downstreamRows() throws SQLException {
    long rows = 0;
    try (Connection down = connect(DOWN); Statement s = down.createStatement()) {
      for (int t = 1; t <= tables; t++) {
        try (ResultSet r = s.executeQuery("SELECT count(*) FROM t" + t)) {
          r.next();
          rows += r.getLong(1);
        }
      }
      down.commit();
    }
    return rows;
  }

  private static boolean found(PreparedStatement seen) throws SQLException {
    try (ResultSet r = seen.executeQuery()) {
      return r.next();
    }
  }

  /** The {@code --postgres} URI with another database. */
  private String uri(String database) {
    String query = base.getRawQuery() == null ? "" : "?" + base.getRawQuery();
    return base.getScheme() + "://" + base.getRawAuthority() + "/" + database + query;
  }

  private PostgresEndpoint endpoint(String database) {
    return PostgresEndpoint.parse("sink", EndpointUri.parse("sink", uri(database)), System.getenv());
  }

  private Connection connect(String database) throws SQLException {
    Connection c = Jdbc.connect(endpoint(database), false);
    c.setAutoCommit(false);
    return c;
  }

  private static double percentile(List<Double> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }
}
