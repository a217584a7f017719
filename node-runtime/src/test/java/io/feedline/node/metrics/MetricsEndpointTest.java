package io.feedline.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.testing.Eventually;
import io.feedline.node.NodeRuntime;
import io.feedline.node.TestNodes;
import io.feedline.node.admin.AdminHttp;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The series a real node exposes on /metrics after a changefeed's life (create, pause, resume) and one
 * fenced message: every series the issue asks for is there, and every series the shipped Grafana
 * dashboard and Prometheus alert rules query is one the node really exposes (so they cannot drift apart).
 */
@ExtendWith(VertxExtension.class)
// Bounds the node's start and each step of the changefeed's life in @BeforeAll.
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class MetricsEndpointTest {

  /** What operators are promised (issue 7), by exposed series name. */
  static final List<String> PROMISED = List.of(
      "feedline_changefeed_checkpoint_timestamp_seconds",     // per-changefeed checkpoint ts
      "feedline_changefeed_checkpoint_lag_seconds",           // ... and lag
      "feedline_changefeed_state",                            // ... and state
      "feedline_changefeed_resolved_lag_seconds",             // ... where the source has got to
      "feedline_changefeed_checkpoint_blockers",              // ... and what holds it back, by reason
      "feedline_coordinator_operators_started_total",         // operators created
      "feedline_coordinator_operators_finished_total",        // operators finished
      "feedline_coordinator_operator_duration_seconds_count", // ... and their durations
      "feedline_coordinator_operator_duration_seconds_sum",
      "feedline_coordinator_operator_duration_seconds_max",
      "feedline_fence_rejections_total",                      // fence rejections by type and reason
      "feedline_coordinator_leading",                         // ownership: sum over nodes must be 1
      "feedline_coordinator_terms_total",
      "feedline_coordinator_maintainers",                     // maintainers per node (coordinator's view)
      "feedline_maintainer_manager_maintainers",              // maintainers on this node
      "feedline_dispatcher_dispatchers",                      // dispatchers on this node
      "feedline_node_dispatchers",                            // dispatchers per node (coordinator's view, node heartbeats)
      "feedline_dispatcher_managers",
      "feedline_coordinator_heartbeat_age_seconds",           // heartbeat ages
      "feedline_cluster_members",
      "feedline_admin_requests_total");

  /**
   * Rows only while a node is being drained, which one node cannot be (the last node is never drained):
   * the drain tests check them; here they may be queried without being exposed.
   */
  static final Set<String> ONLY_WHILE_DRAINING = Set.of("feedline_coordinator_drain_remaining");

  /** Rows of a node reading a PostgreSQL source (this node's changefeed reads datagen): PostgresToPostgresIT checks them. */
  static final Set<String> ONLY_WITH_A_POSTGRESQL_SOURCE = Set.of("feedline_source_retained_wal_bytes");

  private static final Pattern SERIES = Pattern.compile("^(feedline_[a-z0-9_]+)[{ ]");
  private static final Pattern REFERENCED = Pattern.compile("\\bfeedline_[a-z0-9_]+");

  /** Version 1 is older than the running term's, or the same term claimed by another node: counted once. */
  private static final Pattern STALE_BOOTSTRAP_REJECTED = Pattern.compile(
      "feedline_fence_rejections_total\\{reason=\"(stale_epoch|wrong_owner)\",role=\"maintainer-manager\",type=\"CoordinatorBootstrapRequest\"} 1\\.0");

  private static NodeRuntime node;
  private static Future<NodeRuntime> starting;
  private static AdminHttp admin;
  private static Set<String> exposed;

  @BeforeAll
  static void nodeWithAChangefeedThatLivedAndAFencedMessage(Vertx vertx, VertxTestContext ctx) {
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "metrics-endpoint", UUID.randomUUID().toString()), List.of(),
        false, "metrics", Path.of("../conf/hazelcast.xml"), "127.0.0.1", Timings.DEFAULTS);
    (starting = NodeRuntime.start(config))
        .compose(started -> {
          node = started;
          admin = new AdminHttp(node.adminPort());
          return Eventually.until(vertx, "coordinator elected and answering", () -> post("/api/v1/changefeeds",
              "{\"id\":\"metrics-cf\",\"sourceUri\":\"datagen://?tables=2\",\"sinkUri\":\"blackhole://\"}") == 200);
        })
        .compose(created -> Eventually.until(vertx, "changefeed placed",
            () -> scrape().contains("feedline_coordinator_maintainers{node=\"" + node.nodeId() + "\"}")))
        // A pause is queued behind the changefeed's write in flight; resume answers UNAVAILABLE (503) until the
        // pause has stopped the maintainer: retried, as a client would.
        .compose(placed -> Eventually.until(vertx, "paused", () -> post("/api/v1/changefeeds/metrics-cf/pause", "") == 200))
        .compose(paused -> Eventually.until(vertx, "paused state exposed",
            () -> scrape().contains("feedline_changefeed_state{changefeed=\"metrics-cf\",state=\"STOPPED\"}")))
        .compose(stopped -> Eventually.until(vertx, "resumed", () -> post("/api/v1/changefeeds/metrics-cf/resume", "{}") == 200))
        .compose(resumed -> {
          // A coordinator bootstrap from an election long past: the maintainer manager's fence refuses it.
          ControlBus stranger = new ControlBus(node.vertx(), NodeId.of("stale-coordinator"), new SimpleMeterRegistry());
          stranger.send(node.nodeId(), Role.MAINTAINER_MANAGER, CoordinatorBootstrapRequest.newBuilder().setElectionVersion(1).build());
          // Rows of the coordinator's gauges are re-registered every tick: wait for one scrape that has them all, and
          // the stale bootstrap's rejection (it crosses the bus on its own time).
          return Eventually.until(vertx, "every promised series and the stale bootstrap's rejection in one scrape", () -> scrape(),
              text -> seriesNames(text).containsAll(PROMISED) && STALE_BOOTSTRAP_REJECTED.matcher(text).find());
        })
        .onComplete(ctx.succeeding(text -> {
          exposed = seriesNames(text);
          ctx.completeNow();
        }));
  }

  @AfterAll
  static void stop(VertxTestContext ctx) {
    TestNodes.stop(starting).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void everyPromisedSeriesIsExposed() {
    assertThat(exposed).containsAll(PROMISED);
    String text = scrape();
    assertThat(STALE_BOOTSTRAP_REJECTED.matcher(text).find()).as(text).isTrue();
    assertThat(text).containsPattern("feedline_changefeed_checkpoint_lag_seconds\\{changefeed=\"metrics-cf\"} [0-9]");
    assertThat(text).contains("feedline_coordinator_leading 1.0");
    // Series an alert takes a rate() of exist at 0 before their first event: no move ran on this single node.
    assertThat(text).contains("feedline_coordinator_operators_started_total{kind=\"MoveMaintainer\"} 0.0",
        "feedline_coordinator_operators_finished_total{kind=\"MoveMaintainer\",outcome=\"destination_lost\"} 0.0",
        "feedline_changefeed_checkpoint_blockers{changefeed=\"metrics-cf\",reason=\"ddl-barrier\"}");
    // ... and so does every receiver's fence, for each message type it fences: nothing stale came to these.
    assertThat(text).contains(
        "feedline_fence_rejections_total{reason=\"stale_epoch\",role=\"coordinator\",type=\"MaintainerStatus\"} 0.0",
        "feedline_fence_rejections_total{reason=\"closed\",role=\"dispatcher-orchestrator\",type=\"ScheduleDispatcherRequest\"} 0.0",
        "feedline_fence_rejections_total{reason=\"wrong_owner\",role=\"maintainer\",type=\"DispatcherHeartbeat\"} 0.0",
        "feedline_fence_rejections_total{reason=\"not_bootstrapped\",role=\"maintainer-manager\",type=\"AddMaintainerRequest\"} 0.0");
  }

  @Test
  void everySeriesHasHelpTextAsPromtoolWants() {
    // promtool check metrics: "no help text" for a family whose # HELP says nothing.
    List<String> lines = scrape().lines().toList();
    List<String> helpless = lines.stream().filter(l -> l.startsWith("# HELP ")).map(l -> l.substring("# HELP ".length()))
        .filter(l -> l.indexOf(' ') < 0 || l.substring(l.indexOf(' ')).isBlank()).toList();
    assertThat(helpless).as("families without help text").isEmpty();
    Set<String> helped = lines.stream().filter(l -> l.startsWith("# HELP ")).map(l -> l.split(" ")[2]).collect(Collectors.toSet());
    assertThat(lines.stream().filter(l -> l.startsWith("# TYPE feedline_")).map(l -> l.split(" ")[2])).allMatch(helped::contains);
    assertThat(exposed).as("no time in milliseconds (promtool: use base units)").noneMatch(n -> n.endsWith("_ms"));
  }

  @Test
  void theGrafanaDashboardQueriesOnlyExposedSeries() throws IOException {
    JsonNode dashboard = new ObjectMapper().readTree(Path.of("../conf/grafana-dashboard.json").toFile());
    List<String> exprs = new ArrayList<>();
    dashboard.findValues("expr").forEach(e -> exprs.add(e.asText()));
    assertThat(exprs).as("panel queries").hasSizeGreaterThan(5);
    assertThat(referenced(exprs)).isSubsetOf(exposed);
  }

  @Test
  void theAlertRulesQueryOnlyExposedSeries() throws IOException {
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(Path.of("../conf/prometheus-alerts.yml").toFile());
    List<String> exprs = new ArrayList<>();
    rules.findValues("expr").forEach(e -> exprs.add(e.asText()));
    assertThat(exprs).as("alert expressions").isNotEmpty();
    assertThat(referenced(exprs)).isSubsetOf(exposed);
  }

  private static Set<String> referenced(List<String> exprs) {
    Set<String> names = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = REFERENCED.matcher(e);
      while (m.find()) {
        names.add(m.group());
      }
    }
    assertThat(names).as("series referenced by %s", exprs).isNotEmpty();
    names.removeAll(ONLY_WHILE_DRAINING);
    names.removeAll(ONLY_WITH_A_POSTGRESQL_SOURCE);
    return names;
  }

  private static Set<String> seriesNames(String scrape) {
    return scrape.lines().map(SERIES::matcher).filter(Matcher::find).map(m -> m.group(1)).collect(Collectors.toCollection(TreeSet::new));
  }

  private static String scrape() {
    return admin.scrape();
  }

  private static int post(String path, String json) {
    return admin.post(path, json).statusCode();
  }
}
