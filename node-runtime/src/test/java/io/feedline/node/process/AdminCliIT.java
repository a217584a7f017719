package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code feedline cli} as an operator runs it, each command its own process, against two single-node
 * servers from the fat jar: one without authentication, one demanding a bearer token.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AdminCliIT {

  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final String TOKEN = "it-" + UUID.randomUUID();
  /** Throttled: these tests are about the admin surface; an unthrottled upstream would keep every dispatcher busy. */
  private static final String SOURCE = "datagen://?tables=2&rate=1000";
  private static ServerProcess open;
  private static ServerProcess secured;
  private static ServerProcess.Started openNode;
  private static ServerProcess.Started securedNode;

  @BeforeAll
  static void startServers() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "admin-cli-" + UUID.randomUUID()));
    open = ServerProcess.start(work.resolve("open.log"), "server", "--port", "0", "--data-dir", work.resolve("open").toAbsolutePath().toString());
    secured = ServerProcess.start(work.resolve("secured.log"), "server", "--port", "0", "--token", TOKEN,
        "--data-dir", work.resolve("secured").toAbsolutePath().toString());
    openNode = open.awaitStarted(START);
    securedNode = secured.awaitStarted(START);
  }

  @AfterAll
  static void stopServers() throws Exception {
    for (ServerProcess p : new ServerProcess[] {open, secured}) {
      if (p != null) {
        p.close();
      }
    }
  }

  @Test
  void changefeedLifecycleWithTableAndJsonOutput() throws Exception {
    String id = "life-" + shortId();
    // The first call may meet a coordinator still being elected (UNAVAILABLE): retry until it is up.
    ServerProcess.CliResult created = until(openNode, r -> r.exit() == 0,
        "changefeed", "create", "--id", id, "--source", SOURCE, "--sink", "blackhole://");
    assertThat(created.out()).startsWith("ID").contains(id, "NORMAL");
    assertThat(created.err()).isEmpty();

    ServerProcess.CliResult table = openNode.cli("changefeed", "list");
    assertThat(table.exit()).isZero();
    assertThat(table.out().lines().findFirst().orElseThrow()).contains("ID", "STATE", "CHECKPOINT_TS", "EPOCH", "NODE", "ERROR");
    assertThat(table.out()).contains(id);

    ServerProcess.CliResult listed = openNode.cli("changefeed", "list", "--output", "json");
    assertThat(listed.exit()).isZero();
    JsonObject inList = new JsonArray(listed.out()).stream().map(JsonObject.class::cast)
        .filter(o -> o.getString("id").equals(id)).findFirst().orElseThrow();
    assertThat(inList.fieldNames()).contains("id", "state", "checkpointTs", "epoch", "node", "error");

    // Placed by the next scheduling round: a node and an epoch of its own.
    JsonObject placed = queryUntil(id, o -> o.getString("node") != null && Long.parseLong(o.getString("epoch")) > 0);
    assertThat(placed.getString("state")).isEqualTo("NORMAL");
    assertThat(placed.getValue("error")).isNull();
    assertThat(Long.parseLong(placed.getString("checkpointTs"))).as("64-bit positions are JSON strings").isPositive();

    ServerProcess.CliResult paused = openNode.cli("changefeed", "pause", "--id", id, "-o", "json");
    assertThat(paused.exit()).as(paused.toString()).isZero();
    assertThat(new JsonObject(paused.out()).getString("state")).isEqualTo("STOPPED");
    queryUntil(id, o -> o.getString("node") == null);

    String fileSink = "file://" + Path.of("target", "it", "sink-" + id).toAbsolutePath();
    ServerProcess.CliResult updated = until(openNode, r -> r.exit() == 0, "changefeed", "update", "--id", id, "--sink", fileSink);
    assertThat(updated.out()).contains(fileSink);

    // Resume is refused (UNAVAILABLE) until the pause has fully stopped the maintainer.
    until(openNode, r -> r.exit() == 0, "changefeed", "resume", "--id", id);
    JsonObject resumed = queryUntil(id, o -> o.getString("state").equals("NORMAL") && o.getString("node") != null);
    assertThat(Long.parseLong(resumed.getString("epoch"))).isGreaterThan(Long.parseLong(placed.getString("epoch")));

    ServerProcess.CliResult removed = openNode.cli("changefeed", "remove", "--id", id);
    assertThat(removed.exit()).as(removed.toString()).isZero();
    until(openNode, r -> r.exit() == 1 && r.err().contains("NOT_FOUND"), "changefeed", "query", "--id", id);
  }

  @Test
  void badInputsAreRefusedWithOneLineReasonAndExitOne() throws Exception {
    String id = "bad-" + shortId();
    until(openNode, r -> r.exit() == 0, "changefeed", "create", "--id", id, "--source", SOURCE, "--sink", "blackhole://");

    assertRefused(openNode.cli("changefeed", "create", "--id", id, "--source", SOURCE, "--sink", "blackhole://"), "ALREADY_EXISTS", id);
    assertRefused(openNode.cli("changefeed", "create", "--id", "x-" + id, "--source", SOURCE, "--sink", "kafka://user:hunter2@h:9092/t"),
        "INVALID_ARGUMENT", "unknown sink scheme 'kafka'");
    ServerProcess.CliResult secret = openNode.cli("changefeed", "create", "--id", "x-" + id, "--source", SOURCE, "--sink", "kafka://user:hunter2@h:9092/t");
    assertThat(secret.err()).doesNotContain("hunter2");
    assertRefused(openNode.cli("changefeed", "create", "--id", "x-" + id, "--source", "nonsense", "--sink", "blackhole://"),
        "INVALID_ARGUMENT", "source URI");
    assertRefused(openNode.cli("changefeed", "create", "--id", "bad id!", "--source", SOURCE, "--sink", "blackhole://"),
        "INVALID_ARGUMENT", "invalid changefeed id");
    assertRefused(openNode.cli("changefeed", "create", "--id", "x-" + id, "--source", SOURCE, "--sink", "blackhole://", "--start-ts", "-5"),
        "INVALID_ARGUMENT", "negative");
    long future = (System.currentTimeMillis() + Duration.ofDays(1).toMillis()) << 18;
    assertRefused(openNode.cli("changefeed", "create", "--id", "x-" + id, "--source", SOURCE, "--sink", "blackhole://", "--start-ts", Long.toString(future)),
        "INVALID_ARGUMENT", "in the future");
    for (String verb : new String[] {"query", "pause", "resume", "remove"}) {
      assertRefused(openNode.cli("changefeed", verb, "--id", "missing-" + id), "NOT_FOUND", "missing-" + id);
    }
    assertRefused(openNode.cli("changefeed", "update", "--id", "missing-" + id, "--sink", "blackhole://"), "NOT_FOUND", "missing-" + id);
    assertRefused(openNode.cli("changefeed", "update", "--id", id, "--sink", "blackhole://"), "FAILED_PRECONDITION", "paused");
    // A single node has nowhere to move its work; an unknown node is not found, waiting or not.
    assertRefused(openNode.cli("node", "drain", "--node", openNode.nodeId()), "FAILED_PRECONDITION", "last live node");
    assertRefused(openNode.cli("node", "drain", "--node", openNode.nodeId(), "--no-wait", "-o", "json"), "FAILED_PRECONDITION", "last live node");
    assertRefused(openNode.cli("node", "drain", "--node", "missing-" + id), "NOT_FOUND", "missing-" + id);

    // None of the refused creates left anything behind.
    JsonArray all = new JsonArray(openNode.cli("changefeed", "list", "-o", "json").out());
    assertThat(all.stream().map(o -> ((JsonObject) o).getString("id"))).doesNotContain("x-" + id);

    ServerProcess.CliResult usage = openNode.cli("changefeed", "create", "--id", id);
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.err()).contains("Missing required options");
  }

  @Test
  void nodeListAndHelp() throws Exception {
    ServerProcess.CliResult json = until(openNode, r -> r.exit() == 0, "node", "list", "--output", "json");
    JsonObject node = new JsonArray(json.out()).getJsonObject(0);
    assertThat(node.getString("id")).isEqualTo(openNode.nodeId());
    assertThat(node.getString("address")).isEqualTo("127.0.0.1:" + openNode.port());
    assertThat(node.getString("liveness")).isEqualTo("ALIVE");
    assertThat(node.getString("state")).as("it answers the admin API").isEqualTo("ready");
    assertThat(node.getBoolean("coordinator")).isTrue();
    assertThat(node.fieldNames()).contains("maintainers", "dispatchers");
    assertThat(openNode.cli("node", "list").out()).contains("ADDRESS", "STATE", "LIVENESS", "COORDINATOR", openNode.nodeId());
    HttpResponse<String> ready = openNode.http("GET", "/ready", null, null);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(ready.body()).getString("state")).isEqualTo("ready");
    assertThat(new JsonObject(openNode.http("GET", "/health", null, null).body()).getString("state")).isEqualTo("ready");

    for (String[] args : new String[][] {{"--help"}, {"changefeed", "--help"}, {"changefeed", "create", "--help"}, {"node", "drain", "--help"},
        {"coordinator", "resign", "--help"}}) {
      ServerProcess.CliResult help = openNode.cli(args);
      assertThat(help.exit()).as(String.join(" ", args)).isZero();
      assertThat(help.out()).contains("Usage:");
    }
    assertThat(openNode.cli("changefeed", "list", "-V").out()).startsWith("feedline ");
  }

  @Test
  void tokenRequiredWhenConfiguredAndNothingExecutesWithoutIt() throws Exception {
    String id = "auth-" + shortId();
    ServerProcess.CliResult missing = securedNode.cli("changefeed", "create", "--id", id, "--source", SOURCE, "--sink", "blackhole://");
    assertRefused(missing, "UNAUTHENTICATED", "missing bearer token");
    assertRefused(securedNode.cli("--token", "wrong", "changefeed", "create", "--id", id, "--source", SOURCE, "--sink", "blackhole://"),
        "UNAUTHENTICATED", "wrong bearer token");
    assertThat(securedNode.http("GET", "/api/v1/changefeeds", null, null).statusCode()).isEqualTo(401);
    assertThat(securedNode.http("POST", "/api/v1/changefeeds",
        new JsonObject().put("id", id).put("sourceUri", SOURCE).put("sinkUri", "blackhole://").encode(), "wrong").statusCode()).isEqualTo(401);
    // Health and metrics stay open.
    assertThat(securedNode.http("GET", "/health", null, null).statusCode()).isEqualTo(200);

    ServerProcess.CliResult list = until(securedNode, r -> r.exit() == 0, "--token", TOKEN, "changefeed", "list", "-o", "json");
    assertThat(new JsonArray(list.out()).stream().map(o -> ((JsonObject) o).getString("id"))).doesNotContain(id);

    ServerProcess.CliResult created = securedNode.cli("changefeed", "create", "--token", TOKEN, "--id", id, "--source", SOURCE, "--sink", "blackhole://");
    assertThat(created.exit()).as(created.toString()).isZero();
    assertThat(secured.log()).noneMatch(l -> l.contains(TOKEN));
  }

  @Test
  void curlStyleJsonRequestsAreAnswered() throws Exception {
    String id = "http-" + shortId();
    String body = new JsonObject().put("id", id).put("sourceUri", SOURCE).put("sinkUri", "file:///tmp/out?password=hunter2").encode();
    HttpResponse<String> created = untilHttp(() -> openNode.http("POST", "/api/v1/changefeeds", body, null));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    JsonObject view = new JsonObject(created.body());
    assertThat(view.getString("id")).isEqualTo(id);
    assertThat(view.getString("sinkUri")).doesNotContain("hunter2");

    HttpResponse<String> list = openNode.http("GET", "/api/v1/changefeeds", null, null);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(new JsonArray(list.body()).stream().map(o -> ((JsonObject) o).getString("id"))).contains(id);

    HttpResponse<String> duplicate = openNode.http("POST", "/api/v1/changefeeds", body, null);
    assertThat(duplicate.statusCode()).isEqualTo(409);
    assertThat(new JsonObject(duplicate.body()).getJsonObject("error").getString("code")).isEqualTo("ALREADY_EXISTS");
    assertThat(openNode.http("GET", "/api/v1/changefeeds/nope-" + id, null, null).statusCode()).isEqualTo(404);
    assertThat(openNode.http("POST", "/api/v1/changefeeds", "{not json", null).statusCode()).isEqualTo(400);
    assertThat(openNode.http("POST", "/api/v1/changefeeds/" + id + "/pause", null, null).statusCode()).isEqualTo(200);
    HttpResponse<String> drainUnknown = openNode.http("POST", "/api/v1/nodes/missing-" + id + "/drain", null, null);
    assertThat(drainUnknown.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(drainUnknown.body()).getJsonObject("error").getString("code")).isEqualTo("NOT_FOUND");
    HttpResponse<String> drainLast = openNode.http("POST", "/api/v1/nodes/" + openNode.nodeId() + "/drain", null, null);
    assertThat(drainLast.statusCode()).isEqualTo(412);
    String metrics = openNode.http("GET", "/metrics", null, null).body();
    assertThat(metrics).contains("feedline_admin_requests_total{operation=\"CreateChangefeed\",status=\"ALREADY_EXISTS\"");
    assertThat(metrics).contains("feedline_admin_requests_total{operation=\"DrainNode\",status=\"NOT_FOUND\"")
        .contains("feedline_admin_requests_total{operation=\"DrainNode\",status=\"FAILED_PRECONDITION\"");
    awaitMetric(openNode, "feedline_changefeed_checkpoint_timestamp_seconds{changefeed=\"" + id + "\"");
    awaitMetric(openNode, "feedline_coordinator_maintainers{node=\"" + openNode.nodeId() + "\"");
  }

  /** The coordinator refreshes its gauges every tick: poll until {@code prefix} starts a line. */
  private static void awaitMetric(ServerProcess.Started node, String prefix) throws Exception {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (System.nanoTime() < deadline) {
      if (node.get("/metrics").lines().anyMatch(l -> l.startsWith(prefix))) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no metric line starting with " + prefix + " within " + SETTLE);
  }

  private static JsonObject queryUntil(String id, Predicate<JsonObject> condition) throws Exception {
    ServerProcess.CliResult r = until(openNode, res -> res.exit() == 0 && condition.test(new JsonObject(res.out())),
        "changefeed", "query", "--id", id, "-o", "json");
    return new JsonObject(r.out());
  }

  private static ServerProcess.CliResult until(ServerProcess.Started node, Predicate<ServerProcess.CliResult> done, String... args) throws Exception {
    return node.cliUntil(SETTLE, done, args);
  }

  private interface HttpCall {
    HttpResponse<String> send() throws Exception;
  }

  /** Sends until the answer is not 503 (coordinator still being elected), within {@link #SETTLE}. */
  private static HttpResponse<String> untilHttp(HttpCall call) throws Exception {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    HttpResponse<String> last;
    do {
      last = call.send();
      if (last.statusCode() != 503) {
        return last;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    return last;
  }

  private static void assertRefused(ServerProcess.CliResult r, String code, String reason) {
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).as(r.toString()).isEmpty();
    assertThat(r.err().lines().count()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).as(r.toString()).startsWith("feedline: " + code + ": ").contains(reason);
  }

  private static String shortId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
