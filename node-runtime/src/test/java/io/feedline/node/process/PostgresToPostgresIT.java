package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.feedline.common.testing.PostgresServer;
import io.feedline.common.testing.TestSeeds;
import io.feedline.postgresql.source.Lsn;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PostgreSQL to PostgreSQL on three clustered nodes (issue 16): a writer inserts, updates and deletes rows of
 * tables with integer, composite and text keys the whole time; the maintainer's node is killed with SIGKILL,
 * then another node is drained, then a column is added, a table truncated, tables created (one dropped again) and a
 * column dropped upstream. Once the writer stops and the changefeed has caught up, {@code feedline
 * check} finds every table downstream equal to upstream, row by row; removing the changefeed leaves no
 * replication slot behind (the killed node's temporary one went with its connection).
 */
@Timeout(value = 480, unit = TimeUnit.SECONDS)
class PostgresToPostgresIT {

  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final String ID = "pg2pg";
  private static final String SCHEMA = String.join(";\n",
      "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), placed timestamptz, note text)",
      "CREATE TABLE lines (order_id bigint, line int, sku text, qty int, PRIMARY KEY (order_id, line))",
      "CREATE TABLE tags (name text PRIMARY KEY, hits int NOT NULL, active boolean)");

  @Test
  void aKilledAndADrainedNodeLeaveEveryTableEqualToUpstream() throws Exception {
    long seed = TestSeeds.seed(16);
    Path work = Files.createDirectories(Path.of("target", "it", "pg2pg-" + UUID.randomUUID()).toAbsolutePath());
    try (EtcdServer etcd = EtcdServer.start(); PostgresServer postgres = PostgresServer.start()) {
      String upstream = postgres.createDatabase("shop");
      String downstream = postgres.createDatabase("replica");
      postgres.psql(upstream, SCHEMA);
      postgres.psql(downstream, SCHEMA); // as after pg_dump --schema-only
      String source = postgres.uri(upstream);
      String sink = postgres.uri(downstream);
      Writer writer = new Writer(postgres, upstream, seed);
      try (ProcessCluster cluster = ProcessCluster.start(work, etcd.endpoint(), 3)) {
        List<ServerProcess.Started> nodes = cluster.live();
        ServerProcess.CliResult created = nodes.get(0).cliUntil(SETTLE, r -> r.exit() == 0, "changefeed", "create", "--id", ID,
            "--source", source, "--sink", sink, "-o", "json");
        JsonObject view = new JsonObject(created.out());
        assertThat(view.getString("positionKind")).isEqualTo("LSN");
        assertThat(view.getString("startLsn")).isEqualTo(Lsn.format(Long.parseLong(view.getString("startTs"))));
        writer.start();

        awaitCaughtUp(nodes, postgres, upstream, "the changefeed replicates the present");
        // The source's own series, which the shipped alert rules query (MetricsEndpointTest cannot: it reads datagen).
        assertThat(scrapes(nodes)).as("a node reading the source exposes its series")
            .anyMatch(m -> m.contains("feedline_source_retained_wal_bytes{") && m.contains("feedline_source_lag_seconds{")
                && m.contains("feedline_source_stream_restarts_total{"));
        String maintainerNode = new JsonObject(cliOnAny(nodes, r -> r.exit() == 0, "query", "changefeed", "query", "--id", ID, "-o", "json").out())
            .getString("node");
        cluster.kill(maintainerNode);
        awaitCaughtUp(nodes, postgres, upstream, "replication goes on after the maintainer's node was killed");

        ServerProcess.Started drained = nodes.get(0);
        ServerProcess.Started survivor = nodes.get(1);
        ServerProcess.CliResult drain = survivor.cli("node", "drain", "--node", drained.nodeId(), "-o", "json", "--interval", "200");
        assertThat(drain.exit()).as(drain.toString()).isZero();
        nodes.remove(drained);
        awaitCaughtUp(nodes, postgres, upstream, "replication goes on after a node was drained");

        // Schema changes while the writer runs: a column added (the sink adds it downstream with the first row
        // that carries it) and a TRUNCATE (a DDL at the barrier, for every span of the table on every node).
        postgres.psql(upstream, "ALTER TABLE tags ADD COLUMN color text");
        postgres.psql(upstream, "UPDATE tags SET color = 'red' WHERE hits > 1");
        postgres.psql(upstream, "TRUNCATE lines");
        // Tables created after the changefeed (captured by its rules, created downstream from the captured DDL),
        // a column dropped and a table dropped, all at their positions.
        postgres.psql(upstream, "BEGIN; CREATE TABLE notes (id int PRIMARY KEY, body text, scratch int); "
            + "INSERT INTO notes SELECT g, 'note ' || g, g FROM generate_series(1, 50) g; COMMIT");
        postgres.psql(upstream, "CREATE TABLE gone (id int PRIMARY KEY); INSERT INTO gone VALUES (1), (2)");
        postgres.psql(upstream, "ALTER TABLE notes DROP COLUMN scratch");
        postgres.psql(upstream, "UPDATE notes SET body = body || '!' WHERE id % 3 = 0; DROP TABLE gone");
        awaitCaughtUp(nodes, postgres, upstream, "replication goes on through ADD COLUMN, TRUNCATE, CREATE TABLE, DROP COLUMN, DROP TABLE");
        assertThat(postgres.psql(downstream, "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
            + "WHERE attrelid = 'public.notes'::regclass AND attnum > 0 AND NOT attisdropped").strip()).isEqualTo("id,body");
        assertThat(postgres.psql(downstream, "SELECT count(*) FROM pg_tables WHERE tablename = 'gone'").strip()).isEqualTo("0");

        writer.stop();
        assertThat(writer.failure()).as("the writer ran without error").isNull();
        assertThat(writer.transactions()).as("the writer wrote through the faults").isGreaterThan(50);
        awaitCaughtUp(nodes, postgres, upstream, "the changefeed caught up with the stopped writer");
        ServerProcess.CliResult checked = ServerProcess.command("check", "--source", source, "--sink", sink);
        assertThat(checked.exit()).as("seed %d: %s", seed, checked).isZero();
        assertThat(checked.out()).startsWith("equal: ").endsWith(" rows in 4 tables, as both databases hold them now");
        System.out.println("postgres to postgres (2 cores, 3 nodes, maintainer's node killed, one drained, seed " + seed + "): "
            + writer.transactions() + " transactions; " + checked.out().strip());

        cliOnAny(nodes, r -> r.exit() == 0, "remove", "changefeed", "remove", "--id", ID);
        long deadline = System.nanoTime() + SETTLE.toNanos();
        String slots;
        do {
          slots = postgres.psql("postgres", "SELECT coalesce(string_agg(slot_name, ','), '') FROM pg_replication_slots").strip();
          if (slots.isEmpty()) {
            break;
          }
          Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        assertThat(slots).as("no slot outlives the removed changefeed (the killed node's included)").isEmpty();
        assertThat(postgres.psql(upstream, "SELECT count(*) FROM pg_publication").strip()).isEqualTo("0");
      } finally {
        writer.stop();
      }
    }
  }

  private static List<String> scrapes(List<ServerProcess.Started> nodes) throws Exception {
    List<String> all = new ArrayList<>();
    for (ServerProcess.Started node : nodes) {
      all.add(node.get("/metrics"));
    }
    return all;
  }

  /** Waits until the changefeed's checkpoint passes what upstream has committed now. */
  private static void awaitCaughtUp(List<ServerProcess.Started> nodes, PostgresServer postgres, String database, String what) throws Exception {
    long now = Lsn.parse(postgres.psql(database, "SELECT pg_current_wal_insert_lsn()").strip());
    ServerProcess.awaitCheckpointPast(nodes, SETTLE, ID, now, what);
  }

  private static ServerProcess.CliResult cliOnAny(List<ServerProcess.Started> nodes, Predicate<ServerProcess.CliResult> done, String what,
      String... args) throws Exception {
    return ServerProcess.cliOnAny(nodes, SETTLE, done, what, args);
  }

  /** Seeded transactions of inserts, updates (also of keys) and deletes over the three tables, ~50 a second. */
  private static final class Writer {
    private final String url;
    private final Random random;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private Thread thread;

    Writer(PostgresServer postgres, String database, long seed) {
      this.url = "jdbc:postgresql://127.0.0.1:" + postgres.port() + "/" + database + "?user=" + PostgresServer.SUPERUSER;
      this.random = new Random(seed);
    }

    void start() {
      running.set(true);
      thread = new Thread(this::run, "pg2pg-writer");
      thread.start();
    }

    void stop() throws InterruptedException {
      running.set(false);
      if (thread != null) {
        thread.join(30_000);
      }
    }

    long transactions() {
      return transactions.get();
    }

    Exception failure() {
      return failure.get();
    }

    private void run() {
      try (Connection conn = DriverManager.getConnection(url)) {
        conn.setAutoCommit(false);
        long nextOrder = 1;
        while (running.get()) {
          try (Statement s = conn.createStatement()) {
            int statements = 1 + random.nextInt(4);
            for (int i = 0; i < statements; i++) {
              long order = 1 + random.nextInt((int) Math.max(1, nextOrder));
              switch (random.nextInt(7)) {
                case 0, 1 -> {
                  long id = nextOrder++;
                  s.addBatch("INSERT INTO orders VALUES (" + id + ", 'c" + random.nextInt(100) + "', " + random.nextInt(100_000) / 100.0
                      + ", now(), " + (random.nextBoolean() ? "NULL" : "'n" + id + "'") + ")");
                  s.addBatch("INSERT INTO lines VALUES (" + id + ", 1, 'sku" + random.nextInt(50) + "', 1), (" + id + ", 2, 'x', 2)");
                }
                case 2 -> s.addBatch("UPDATE orders SET amount = amount + 1, note = 'u' WHERE id = " + order);
                case 3 -> s.addBatch("DELETE FROM lines WHERE order_id = " + order + " AND line = 2");
                case 4 -> s.addBatch("UPDATE lines SET line = line + 10 WHERE order_id = " + order + " AND line = 1");
                case 5 -> s.addBatch("INSERT INTO tags VALUES ('t" + random.nextInt(40) + "', 1, true) ON CONFLICT (name) DO UPDATE "
                    + "SET hits = tags.hits + 1, active = NOT tags.active");
                default -> s.addBatch("DELETE FROM tags WHERE name = 't" + random.nextInt(40) + "'");
              }
            }
            s.executeBatch();
            conn.commit();
            transactions.incrementAndGet();
          }
          Thread.sleep(20);
        }
      } catch (SQLException | RuntimeException e) {
        failure.set(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
