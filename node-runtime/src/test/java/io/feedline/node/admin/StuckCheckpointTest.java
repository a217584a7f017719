package io.feedline.node.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.testing.Eventually;
import io.feedline.common.testing.PostgresServer;
import io.feedline.common.testing.PostgresServerExtension;
import io.feedline.dispatcher.manager.DispatcherManager;
import io.feedline.node.NodeRuntime;
import io.feedline.node.TestNodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A checkpoint that stops moving explains itself (issue 19): datagen into a real PostgreSQL, where a
 * transaction of the test's holds an exclusive lock on one replicated table, so the sink's writes of that
 * table really block. {@code changefeed query} then names that table's span as what holds the checkpoint
 * back, with the reason {@code sink-error} and since when its write waits; the metric carries the same
 * reason; once the lock goes, the span moves on and the reason with it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class StuckCheckpointTest {

  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();

  private static final String ID = "stuck";

  private NodeRuntime node;
  private Future<NodeRuntime> starting;
  private AdminHttp admin;
  /** The test's transaction holding t2's lock, while it does. */
  private Connection lock;

  /** The node stops before PostgreSQL does (after the class): its sink writes there. */
  @AfterEach
  void stop(VertxTestContext ctx) throws SQLException {
    if (lock != null) {
      lock.close();
    }
    TestNodes.stop(starting).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aSinkThatBlocksOneTableIsNamedAsWhatHoldsTheCheckpoint(Vertx vertx, VertxTestContext ctx) {
    PostgresServer postgres = POSTGRES.server();
    String sink = postgres.uri(postgres.createDatabase("replica"));
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "stuck-checkpoint", UUID.randomUUID().toString()), List.of(),
        false, "stuck", Path.of("../conf/hazelcast.xml"), "127.0.0.1", Timings.DEFAULTS);
    (starting = NodeRuntime.start(config))
        .compose(started -> {
          node = started;
          admin = new AdminHttp(node.adminPort());
          return Eventually.until(vertx, "changefeed created", () -> admin.post("/api/v1/changefeeds", new JsonObject().put("id", ID)
              .put("sourceUri", "datagen://?tables=3&seed=19&rate=60").put("sinkUri", sink).encode()).statusCode() == 200);
        })
        .compose(created -> Eventually.until(vertx, "every table replicated and the checkpoint moving", () -> {
          JsonObject q = query();
          return q.getJsonArray("blockers").size() == 3 && q.getDouble("lagSeconds", 99.0) < 3
              && postgres.psql("replica", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 't2'").strip().equals("1");
        }))
        .compose(settled -> vertx.executeBlocking(() -> {
          assertThat(query().getString("resolvedTs")).as("a 64-bit position, as a JSON string").matches("[1-9][0-9]+");
          return lockT2(postgres);
        }))
        .compose(locked -> {
          lock = locked;
          return Eventually.until(vertx, "t2's blocked write named as what holds the checkpoint", this::query, q -> heldBySink(q) != null);
        })
        .compose(stuck -> {
          JsonObject blocker = heldBySink(stuck);
          assertThat(blocker.getString("detail")).startsWith("a write has waited for the sink since ");
          assertThat(blocker.getString("node")).isEqualTo(node.nodeId().value());
          assertThat(blocker.getString("dispatcherState")).isEqualTo("WORKING");
          assertThat(blocker.getString("span")).contains("2");
          assertThat(Long.parseLong(blocker.getString("checkpointTs"))).as("the slowest span is at or past the persisted checkpoint")
              .isGreaterThanOrEqualTo(Long.parseLong(stuck.getString("checkpointTs")));
          assertThat(stuck.getDouble("lagSeconds")).isGreaterThanOrEqualTo(DispatcherManager.SINK_STALL_MILLIS / 1000.0);
          assertThat(stuck.getDouble("resolvedLagSeconds")).as("the source is not what is behind").isLessThan(stuck.getDouble("lagSeconds"));
          return Eventually.until(vertx, "the metric says it too", () -> admin.scrape().contains(
              "feedline_changefeed_checkpoint_blockers{changefeed=\"" + ID + "\",reason=\"sink-error\"} 1.0"));
        })
        .compose(said -> vertx.executeBlocking(() -> {
          lock.rollback();
          return null;
        }))
        .compose(unlocked -> Eventually.until(vertx, "t2 moves on once the lock is gone, and is no longer held by its sink", () ->
            query().getJsonArray("blockers").stream().map(JsonObject.class::cast).noneMatch(b -> b.getString("reason").equals("sink-error"))
                && query().getDouble("lagSeconds", 99.0) < 3))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Takes an exclusive lock on t2 in a transaction of the test's: the sink's writes of t2 block until it ends. */
  private static Connection lockT2(PostgresServer postgres) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/replica", PostgresServer.SUPERUSER, "");
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("LOCK TABLE public.t2 IN ACCESS EXCLUSIVE MODE");
    }
    return c;
  }

  /** The blocker naming t2 as held by its sink, or null. */
  private static JsonObject heldBySink(JsonObject query) {
    return query.getJsonArray("blockers").stream().map(JsonObject.class::cast)
        .filter(b -> "t2".equals(b.getString("table")) && "sink-error".equals(b.getString("reason"))).findFirst().orElse(null);
  }

  private JsonObject query() {
    HttpResponse<String> r = admin.get("/api/v1/changefeeds/" + ID);
    return r.statusCode() == 200 ? new JsonObject(r.body()) : new JsonObject().put("blockers", new JsonArray());
  }
}
