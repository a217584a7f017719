package io.feedline.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.span.TableSpans;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.DrainReply;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.HandoffInvariants.SpanKey;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 6: draining a node that hosts maintainers and about 10,000 Working dispatchers (10 changefeeds of
 * 3,000 tables spread over 3 nodes), on 3 in-JVM nodes on a real etcd, through the coordinator's drain
 * operation polled as the admin API does, reaches 0 remaining; no span ever has two Working dispatchers, and
 * none is without one except inside a single move of it; each drained span moves exactly once. Checked on an
 * exact history ({@link HandoffRecorder}, {@link HandoffInvariants}), not on samples. A smaller second case
 * drains the coordinator's own node, which hands its leadership over first.
 *
 * <p>The upstream is a datagen past its end ({@code until=1}): the tables that exist at a changefeed's start
 * are all it ever has (no DDL arrives), so every span's life is exactly its placement and its moves, and the
 * dispatchers idle (no CPU spent on rows, and no span comes or goes for a reason other than a move).
 * Nothing is randomized by the test; ids are random but no assertion depends on them.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DrainInvariantTest {

  private static final Duration POLL = Duration.ofMillis(100);

  /** Liveness bounds only: generous, never what an assertion measures. */
  private static final Duration PLACED_WITHIN = Duration.ofMinutes(4);
  private static final Duration DRAINED_WITHIN = Duration.ofMinutes(4);

  private final HandoffRecorder recorder = new HandoffRecorder();
  private EtcdServer etcd;
  private Vertx vertx;
  private InJvmCluster cluster;

  @BeforeEach
  void startCluster() {
    etcd = EtcdServer.start();
    vertx = Vertx.vertx();
    String clusterId = "drainit-" + UUID.randomUUID().toString().substring(0, 8);
    Timings timings = Timings.fromMap(Map.of("node-heartbeat", Duration.ofSeconds(1), "drain-target-resend", Duration.ofSeconds(1)));
    cluster = new InJvmCluster(3, vertx, v -> MetaStores.etcd(v, List.of(etcd.endpoint())), bus -> bus.addOutboundInterceptor(recorder),
        clusterId, Path.of("target", "drainit", clusterId).toAbsolutePath(), timings);
    cluster.startAll();
    cluster.live().forEach(recorder::observe);
  }

  @AfterEach
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (vertx != null) {
      InJvmCluster.join(vertx.close());
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void drainingANodeOfMaintainersAndTenThousandDispatchersMovesEachSpanOnceWithOneWriterAndGapsOnlyInsideItsMove() {
    drainAndCheck(10, 3_000, false);
  }

  /** The coordinator's own node: the drain asks it to hand its leadership over first, then goes on under the next one. */
  @Test
  void drainingTheCoordinatorsOwnNodeHandsTheLeadershipOverAndKeepsTheSameInvariants() {
    drainAndCheck(3, 600, true);
  }

  private void drainAndCheck(int changefeeds, int tables, boolean coordinatorsNode) {
    long testStart = System.nanoTime();
    NodeRuntime leader = awaitLeader();
    Set<SpanKey> spans = new HashSet<>();
    for (int i = 0; i < changefeeds; i++) {
      String source = "datagen://?tables=" + tables + "&seed=" + i + "&rate=1&until=1";
      ChangefeedInfo info = ChangefeedInfo.newBuilder().setId(String.format("cf-%02d", i)).setSourceUri(source).setSinkUri("blackhole://").build();
      ChangefeedRecord created = ClusterProbe.onCoordinator(leader, c -> c.create(info));
      spans.addAll(spansOf(created));
    }
    Await.until("every span Working once and every maintainer placed", PLACED_WITHIN, () ->
        spans.equals(workingOnce()) && maintainersConverged(leader, changefeeds));
    long placedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - testStart);

    Map<ChangefeedId, NodeId> owners = ClusterProbe.onCoordinator(leader, c -> Future.succeededFuture(c.maintainers()));
    NodeRuntime target = coordinatorsNode ? leader : cluster.live().stream().filter(n -> n != leader)
        .max(Comparator.comparingLong(n -> owners.values().stream().filter(n.nodeId()::equals).count())).orElseThrow();
    long maintainersOnTarget = owners.values().stream().filter(target.nodeId()::equals).count();
    long dispatchersOnTarget = ClusterProbe.workingDispatchers(List.of(target)).size();
    assertThat(maintainersOnTarget).as("maintainers on the node to drain").isPositive();
    assertThat(dispatchersOnTarget).as("dispatchers on the node to drain: about a third").isGreaterThan(spans.size() * 3L / 10);
    assertThat(HandoffInvariants.check(recorder.history()).violations()).as("before the drain").isEmpty();

    // Drain as the admin API does: ask the coordinator again and again until nothing remains; when it runs on
    // the target it hands its leadership over first, and the next one is asked.
    long drainFrom = recorder.mark();
    long started = System.nanoTime();
    long deadline = started + DRAINED_WITHIN.toNanos();
    long remaining = -1;
    int polls = 0;
    int resigned = 0;
    while (remaining != 0) {
      assertThat(System.nanoTime()).as("drained within %s (last remaining %d)", DRAINED_WITHIN, remaining).isLessThan(deadline);
      NodeRuntime coordinator = awaitLeader();
      DrainReply reply;
      try {
        reply = ClusterProbe.onCoordinator(coordinator, c -> c.drain(target.nodeId()));
      } catch (CompletionException e) {
        Await.pause(POLL); // the leadership moved between finding the coordinator and asking it, as a client sees it: ask again
        continue;
      }
      polls++;
      if (reply.resignFirst()) {
        ClusterProbe.onContext(coordinator.coordinatorRole().context(), () -> coordinator.coordinatorRole().resign());
        resigned++;
      } else {
        remaining = reply.remaining();
      }
      if (remaining != 0) {
        Await.pause(POLL);
      }
    }
    double drainSeconds = (System.nanoTime() - started) / 1e9;
    long drainTo = recorder.mark();
    NodeRuntime finalLeader = awaitLeader();
    assertThat(resigned > 0).as("the coordinator handed its leadership over").isEqualTo(coordinatorsNode);
    assertThat(finalLeader).as("the coordinator").isNotSameAs(target);

    // Nothing of the changefeeds is left on the target, which is told to stop.
    assertThat(ClusterProbe.runningMaintainers(List.of(target))).as("maintainers on the target").isEmpty();
    Map<ChangefeedId, NodeId> ownersAfter = ClusterProbe.onCoordinator(finalLeader, c -> Future.succeededFuture(c.maintainers()));
    assertThat(ownersAfter).hasSize(changefeeds).doesNotContainValue(target.nodeId());
    assertThat(ClusterProbe.onContext(target.dispatcherRole().context(),
        () -> Future.succeededFuture(target.dispatcherRole().orchestrator().dispatcherCount()))).as("dispatchers on the target").isZero();
    Await.until("the target STOPPING", Duration.ofSeconds(30), () -> ClusterProbe.onContext(target.maintainerRole().context(),
        () -> Future.succeededFuture(target.maintainerRole().liveness())) == NodeLiveness.NODE_LIVENESS_STOPPING);
    // Every span has exactly one Working dispatcher, by the nodes' own account (read until they agree) ...
    Await.until("every span Working exactly once, none on the target", Duration.ofSeconds(30), () -> spans.equals(workingOnce())
        && ClusterProbe.workingDispatchers(List.of(target)).isEmpty());

    // ... and by the exact history, which also says no span ever had two writers or a gap outside one move.
    HandoffInvariants.Report report = HandoffInvariants.check(recorder.history());
    assertThat(report.violations().subList(0, Math.min(20, report.violations().size())))
        .as("handoff invariants (first 20 of %d)", report.violations().size()).isEmpty();
    assertThat(report.workingAtEnd().keySet()).isEqualTo(spans);
    assertThat(report.workingAtEnd().values()).allSatisfy(w -> assertThat(w).hasSize(1));
    assertThat(report.workingAtEnd().values().stream().flatMap(List::stream)).noneMatch(w -> w.node().equals(target.nodeId()));
    Map<SpanKey, Integer> movedInDrain = report.gapsPerSpan(drainFrom, drainTo);
    assertThat(movedInDrain.values()).as("moves per span during the drain").allMatch(n -> n == 1);
    assertThat((long) movedInDrain.size()).as("spans moved by the drain: the target's dispatchers and its maintainers' triggers")
        .isEqualTo(dispatchersOnTarget);

    System.out.printf("drain of %s: %d dispatchers and %d maintainers (%d changefeeds x %d tables, 3 in-JVM nodes, etcd, 2 cores): "
            + "placed in %d s, drained in %.2f s (%d polls, %d resigns); %d events, %d gaps, each inside its move; test %d s%n",
        coordinatorsNode ? "the coordinator's node" : "a node", dispatchersOnTarget, maintainersOnTarget, changefeeds, tables, placedSeconds,
        drainSeconds, polls, resigned, recorder.history().size(), report.gaps().size(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - testStart));
  }

  /** The spans of a changefeed: one per table that exists where it starts, and its table trigger. */
  private static Set<SpanKey> spansOf(ChangefeedRecord record) {
    ChangefeedId id = record.id();
    DatagenSource source = new DatagenSource(DatagenSpec.parse(EndpointUri.parse("source", record.info().getSourceUri())), null);
    Set<SpanKey> out = source.tablesAt(record.info().getStartTs()).result().stream() // a datagen source answers at once
        .map(t -> new SpanKey(id, TableSpan.newBuilder().setTableId(t.getTableId()).build())).collect(Collectors.toCollection(HashSet::new));
    out.add(new SpanKey(id, TableSpans.ddlSpan()));
    return out;
  }

  /** The spans that exactly one dispatcher is Working for, by the nodes' own account; empty if any span has two. */
  private Set<SpanKey> workingOnce() {
    Map<SpanKey, Integer> count = new HashMap<>();
    ClusterProbe.workingDispatchers(cluster.live()).forEach(w -> count.merge(new SpanKey(w.changefeed(), w.dispatcher().getSpan()), 1, Integer::sum));
    return count.values().stream().allMatch(n -> n == 1) ? count.keySet() : Set.of();
  }

  private boolean maintainersConverged(NodeRuntime leader, int changefeeds) {
    List<ChangefeedRecord> records = ClusterProbe.onCoordinator(leader, c -> Future.succeededFuture(c.list()));
    return records.size() == changefeeds && ClusterProbe.maintainerDivergence(records, cluster.live(), leader).isEmpty();
  }

  private NodeRuntime awaitLeader() {
    Await.until("a coordinator", Duration.ofMinutes(1), () -> cluster.leader().isPresent());
    return cluster.leader().orElseThrow();
  }


}
