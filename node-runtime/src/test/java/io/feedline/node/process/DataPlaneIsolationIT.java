package io.feedline.node.process;

import static io.feedline.node.process.ServerProcess.tsoNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.EtcdServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A busy data plane never starves the control plane (issue 14). Three clustered server processes on a
 * real etcd, each with a 128 MiB memory quota: first idle, then beside a firehose (unthrottled datagen of
 * 3000 tables into blackhole://, which fills every data lane). Measured both times, from the test over
 * HTTP: the p99 of 100 {@code changefeed list} calls, and how long a create, a pause, a resume and a
 * coordinator move take until they have taken effect. Beside the firehose: the list p99 stays within
 * 200 ms, every operation within 2 s of its idle figure, a throttled changefeed's checkpoint lag within
 * 1 s, no node or maintainer is considered lost, and each node's RSS stays under the quota plus
 * {@link #OVERHEAD_MIB}. The figures are printed.
 *
 * <p>Issue 14's acceptance test. Two early failures (a changefeed created beside the firehose did not
 * checkpoint within 60 s) came before the memory quota let a changefeed that holds nothing read once even at
 * the node's quota; a failure prints that changefeed and each node's data-plane meters.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class DataPlaneIsolationIT {

  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final String FIREHOSE = "datagen://?tables=3000&seed=21&rate=0";
  private static final String TRICKLE = "datagen://?tables=4&seed=22&rate=50";
  private static final long QUOTA_MIB = 128;
  /** How long the trickle's lag is sampled, idle and beside the firehose: long enough to span several of its DDLs. */
  private static final Duration LAG_WINDOW = Duration.ofSeconds(20);
  /** How long the firehose runs before anything is measured beside it. */
  private static final Duration SOAK = Duration.ofSeconds(10);
  /**
   * What a node holds besides the quota: the rest of its 512 MiB heap (the control plane, thousands of
   * dispatchers' state, garbage not yet collected) and the JVM's own memory (metaspace, code, threads,
   * Netty and Hazelcast buffers).
   */
  private static final long OVERHEAD_MIB = 640;
  /** Log events that mean a node or a maintainer was given up on. */
  private static final List<String> LOST = List.of("event=maintainer_lost", "event=session_lost", "event=lease_lost",
      "event=table_trigger_lost", "event=node_rejoining");
  private static final Pattern SINK_EVENTS = Pattern.compile("^feedline_sink_events_total\\{changefeed=\"firehose\"[^}]*} (\\S+)$",
      Pattern.MULTILINE);

  /** The control plane's answers in one condition of the data plane, in milliseconds. */
  record Figures(double listP50, double listP99, double create, double pause, double resume, double coordinatorMove) {
    String row(String condition) {
      return String.format(Locale.ROOT, "%-10s %8.1f %8.1f %9.0f %8.0f %9.0f %17.0f", condition, listP50, listP99, create, pause, resume,
          coordinatorMove);
    }
  }

  @Test
  void theControlPlaneAnswersOnTimeBesideAFirehose() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "it", "data-plane-" + UUID.randomUUID()).toAbsolutePath());
    try (EtcdServer etcd = EtcdServer.start()) {
      try (ProcessCluster cluster = ProcessCluster.start(work, etcd.endpoint(), 3, "--memory-quota", QUOTA_MIB + "MiB")) {
        List<ServerProcess> servers = cluster.servers();
        List<ServerProcess.Started> nodes = cluster.live();

        Figures idle = measure(nodes, "idle");
        create(nodes, "trickle", TRICKLE);
        awaitCheckpointPast(nodes, "trickle", tsoNow());
        List<Long> idleLags = lagsMillis(nodes, "trickle", LAG_WINDOW);

        create(nodes, "firehose", FIREHOSE);
        awaitTrue(Duration.ofSeconds(120), "the firehose writes on every node", () -> {
          for (ServerProcess.Started n : nodes) {
            if (sinkEvents(n) <= 0) {
              return false;
            }
          }
          return true;
        });
        // Steady state: placing the firehose's 3000 spans is control work of its own, not what is measured here.
        Thread.sleep(SOAK.toMillis());
        double[] before = new double[3];
        for (int i = 0; i < 3; i++) {
          before[i] = sinkEvents(nodes.get(i));
        }
        // The lag first: the measurement moves the coordinator, and a new one persists checkpoints only once it has
        // heard from every maintainer.
        List<Long> busyLags = lagsMillis(nodes, "trickle", LAG_WINDOW);
        Figures saturated = measure(nodes, "saturated");
        List<Long> rss = new ArrayList<>();
        for (ServerProcess s : servers) {
          rss.add(s.rssMiB());
        }
        List<String> memory = new ArrayList<>();
        for (ServerProcess.Started n : nodes) {
          String metrics = n.get("/metrics");
          memory.add(String.format(Locale.ROOT, "used %.1f MiB, waits %.0f", metric(metrics, "feedline_dataplane_memory_used_bytes") / (1 << 20),
              metric(metrics, "feedline_dataplane_memory_waits_total")));
        }
        double written = 0;
        for (int i = 0; i < 3; i++) {
          written += sinkEvents(nodes.get(i)) - before[i];
        }

        System.out.println("data plane isolation (2 cores, 3 clustered nodes, -Xmx512m, memory-quota " + QUOTA_MIB + "MiB), ms:");
        System.out.println(String.format(Locale.ROOT, "%-10s %8s %8s %9s %8s %9s %17s", "condition", "list_p50", "list_p99", "create",
            "pause", "resume", "coordinator_move"));
        System.out.println(idle.row("idle"));
        System.out.println(saturated.row("saturated"));
        System.out.printf(Locale.ROOT, "trickle checkpoint lag: idle %s, beside the firehose %s; firehose wrote %.0f events "
            + "while measured; node RSS %s MiB (bound %d); data plane memory %s%n", summary(idleLags), summary(busyLags), written, rss,
            QUOTA_MIB + OVERHEAD_MIB, memory);

        assertThat(written).as("the firehose kept writing while the control plane was measured").isPositive();
        assertThat(saturated.listP99()).as("changefeed list p99 beside the firehose").isLessThanOrEqualTo(200);
        assertThat(saturated.create()).as("create").isLessThanOrEqualTo(idle.create() + 2_000);
        assertThat(saturated.pause()).as("pause").isLessThanOrEqualTo(idle.pause() + 2_000);
        assertThat(saturated.resume()).as("resume").isLessThanOrEqualTo(idle.resume() + 2_000);
        assertThat(saturated.coordinatorMove()).as("coordinator move").isLessThanOrEqualTo(idle.coordinatorMove() + 2_000);
        assertThat(busyLags.get(busyLags.size() - 1)).as("a throttled changefeed's lag beside the firehose").isLessThanOrEqualTo(1_000);
        assertThat(rss).as("RSS per node").allSatisfy(r -> assertThat(r).isLessThanOrEqualTo(QUOTA_MIB + OVERHEAD_MIB));
        for (ServerProcess s : servers) {
          assertThat(s.isAlive()).isTrue();
          assertThat(s.log()).as("nothing given up on").noneMatch(l -> LOST.stream().anyMatch(l::contains));
        }
        JsonArray list = new JsonArray(nodes.get(0).cliUntil(SETTLE, r -> r.exit() == 0, "node", "list", "-o", "json").out());
        assertThat(list).hasSize(3).allSatisfy(n -> assertThat(((JsonObject) n).getString("liveness")).isEqualTo("ALIVE"));
      }
    }
  }

  /** The control plane's figures now: list latency, and create, pause, resume and a coordinator move until they took effect. */
  private static Figures measure(List<ServerProcess.Started> nodes, String condition) throws Exception {
    List<Double> list = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      long t = System.nanoTime();
      HttpResponse<String> r = nodes.get(i % nodes.size()).http("GET", "/api/v1/changefeeds", null, null);
      list.add((System.nanoTime() - t) / 1e6);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    Collections.sort(list);
    String id = "probe-" + condition;
    long t = System.nanoTime();
    create(nodes, id, "datagen://?tables=4&seed=23&rate=50");
    awaitCheckpointPast(nodes, id, tsoNow());
    double create = millisSince(t);

    t = System.nanoTime();
    post(nodes, "/api/v1/changefeeds/" + id + "/pause");
    awaitQuery(nodes, id, q -> q.getString("state").equals("STOPPED") && q.getString("node") == null, "paused, its maintainer gone");
    double pause = millisSince(t);

    t = System.nanoTime();
    post(nodes, "/api/v1/changefeeds/" + id + "/resume");
    awaitCheckpointPast(nodes, id, tsoNow());
    double resume = millisSince(t);

    String coordinator = coordinator(nodes);
    t = System.nanoTime();
    post(nodes, "/api/v1/coordinator/resign");
    awaitTrue(SETTLE, "another coordinator answers", () -> {
      String now = coordinator(nodes);
      return now != null && !now.equals(coordinator) && nodes.get(0).http("GET", "/api/v1/changefeeds", null, null).statusCode() == 200;
    });
    double move = millisSince(t);

    nodes.get(0).http("DELETE", "/api/v1/changefeeds/" + id, null, null);
    return new Figures(list.get(list.size() / 2), list.get((int) Math.ceil(list.size() * 0.99) - 1), create, pause, resume, move);
  }

  private static void create(List<ServerProcess.Started> nodes, String id, String source) throws Exception {
    String body = new JsonObject().put("id", id).put("sourceUri", source).put("sinkUri", "blackhole://").encode();
    awaitTrue(SETTLE, "created " + id, () -> nodes.get(0).http("POST", "/api/v1/changefeeds", body, null).statusCode() == 200);
  }

  private static void post(List<ServerProcess.Started> nodes, String path) throws Exception {
    awaitTrue(SETTLE, "POST " + path, () -> nodes.get(0).http("POST", path, "{}", null).statusCode() == 200);
  }

  private static String coordinator(List<ServerProcess.Started> nodes) throws Exception {
    HttpResponse<String> r = nodes.get(1).http("GET", "/api/v1/nodes", null, null);
    if (r.statusCode() != 200) {
      return null;
    }
    return new JsonArray(r.body()).stream().map(JsonObject.class::cast).filter(n -> n.getBoolean("coordinator", false))
        .map(n -> n.getString("id")).findFirst().orElse(null);
  }

  private static JsonObject awaitQuery(List<ServerProcess.Started> nodes, String id, Predicate<JsonObject> done, String what) throws Exception {
    JsonObject[] last = {null};
    awaitTrue(SETTLE, id + " " + what, () -> {
      HttpResponse<String> r = nodes.get(0).http("GET", "/api/v1/changefeeds/" + id, null, null);
      if (r.statusCode() != 200) {
        return false;
      }
      last[0] = new JsonObject(r.body());
      return done.test(last[0]);
    });
    return last[0];
  }

  private static void awaitCheckpointPast(List<ServerProcess.Started> nodes, String id, long tso) throws Exception {
    try {
      awaitQuery(nodes, id, q -> checkpoint(q) > tso, "checkpoint past " + tso);
    } catch (AssertionError e) {
      // What a stuck checkpoint needs to be explained: the changefeed, and each node's data plane.
      StringBuilder state = new StringBuilder(e.getMessage()).append("; changefeed: ")
          .append(nodes.get(0).http("GET", "/api/v1/changefeeds/" + id, null, null).body());
      for (ServerProcess.Started node : nodes) {
        String metrics = node.get("/metrics");
        state.append("; node ").append(node.nodeId()).append(": memory used ").append(metric(metrics, "feedline_dataplane_memory_used_bytes"))
            .append(", waits ").append(metric(metrics, "feedline_dataplane_memory_waits_total")).append(", ")
            .append(metrics.lines().filter(l -> l.startsWith("feedline_sink_events_total")).toList());
      }
      throw new AssertionError(state.toString(), e);
    }
  }

  /** The lag of the changefeed's checkpoint behind the wall clock, sampled every 100 ms over {@code window}; sorted. */
  private static List<Long> lagsMillis(List<ServerProcess.Started> nodes, String id, Duration window) throws Exception {
    List<Long> lags = new ArrayList<>();
    long end = System.nanoTime() + window.toNanos();
    while (System.nanoTime() < end) {
      HttpResponse<String> r = nodes.get(2).http("GET", "/api/v1/changefeeds/" + id, null, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      lags.add(System.currentTimeMillis() - (checkpoint(new JsonObject(r.body())) >>> 18));
      Thread.sleep(100);
    }
    Collections.sort(lags);
    return lags;
  }

  private static String summary(List<Long> sorted) {
    return String.format(Locale.ROOT, "p50 %d ms, p90 %d ms, max %d ms", sorted.get(sorted.size() / 2), sorted.get(sorted.size() * 9 / 10),
        sorted.get(sorted.size() - 1));
  }

  private static long checkpoint(JsonObject query) {
    return Long.parseUnsignedLong(query.getValue("checkpointTs").toString());
  }

  private static double metric(String metrics, String name) {
    Matcher m = Pattern.compile("^" + name + "(?:\\{[^}]*})? (\\S+)$", Pattern.MULTILINE).matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  private static double sinkEvents(ServerProcess.Started node) throws Exception {
    Matcher m = SINK_EVENTS.matcher(node.get("/metrics"));
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static double millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1e6;
  }

  @FunctionalInterface
  private interface Check {
    boolean holds() throws Exception;
  }

  private static void awaitTrue(Duration within, String what, Check check) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within " + within);
      }
      Thread.sleep(20);
    }
  }
}
