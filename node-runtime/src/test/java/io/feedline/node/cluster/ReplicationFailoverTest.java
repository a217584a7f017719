package io.feedline.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.FileSinkCheck;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.ChangefeedInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 5's end-to-end run: on 3 in-JVM nodes over a real etcd, a changefeed of 1,000 datagen tables with
 * DDLs (create, truncate, add column, drop, through the barrier) replicates into the file sink, the node
 * of its maintainer dies (lease left to expire), a new maintainer takes over from the dispatchers'
 * snapshots, and in the end the file output equals the datagen replay up to the final checkpoint.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReplicationFailoverTest {

  private static final ChangefeedId CF = ChangefeedId.of("replica");
  private EtcdServer etcd;
  private Vertx vertx;
  private InJvmCluster cluster;

  @BeforeEach
  void start() {
    etcd = EtcdServer.start();
    vertx = Vertx.vertx();
    String clusterId = "replica-" + UUID.randomUUID().toString().substring(0, 8);
    cluster = new InJvmCluster(3, vertx, v -> MetaStores.etcd(v, List.of(etcd.endpoint())), bus -> { }, clusterId,
        Path.of("target", "replication", clusterId), Timings.fromMap(Map.of("session-ttl", Timings.MIN_SESSION_TTL))).startAll();
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
    InJvmCluster.join(vertx.close());
    etcd.close();
  }

  @Test
  void aThousandTablesWithDdlsSurviveTheLossOfTheMaintainersNodeAndTheSinkEqualsTheReplay() throws Exception {
    String source = "datagen://?tables=1000&seed=11&rate=5";
    Path sinkDir = Path.of("target", "replication", "sink-" + UUID.randomUUID()).toAbsolutePath();
    String sink = "file://" + sinkDir;
    NodeRuntime leader = awaitLeader();
    ClusterProbe.onCoordinator(leader, c -> c.create(ChangefeedInfo.newBuilder().setId(CF.value()).setSourceUri(source).setSinkUri(sink).build()));

    long started = record().status().getCheckpointTs();
    Await.until("replicating: 3 s of upstream past the start", Duration.ofMinutes(2), () -> physicalMs(checkpoint()) > physicalMs(started) + 3_000);
    NodeId owner = ClusterProbe.onCoordinator(awaitLeader(), c -> Future.succeededFuture(c.maintainers())).get(CF);
    long epochBefore = record().epoch();
    long checkpointAtCrash = checkpoint();

    NodeRuntime victim = cluster.live().stream().filter(n -> n.nodeId().equals(owner)).findFirst().orElseThrow();
    cluster.crash(cluster.slotOf(victim), n -> { });

    // What the wait saw last, so a timeout says which part was missing.
    StringBuilder seen = new StringBuilder();
    Await.until(() -> "a new maintainer on a live node, 3 s of upstream further and a source DDL in the window; last seen " + seen,
        Duration.ofMinutes(2), () -> {
          seen.setLength(0);
          var leaderNow = cluster.leader();
          if (leaderNow.isEmpty()) {
            seen.append("no coordinator");
            return false;
          }
          NodeId now = ClusterProbe.onCoordinator(leaderNow.get(), c -> Future.succeededFuture(c.maintainers())).get(CF);
          long checkpoint = checkpoint();
          seen.append("maintainer=").append(now).append(" (crashed ").append(owner).append("), checkpoint ")
              .append(physicalMs(checkpoint) - physicalMs(checkpointAtCrash)).append(" ms past the crash's");
          if (now == null || now.equals(owner) || physicalMs(checkpoint) <= physicalMs(checkpointAtCrash) + 3_000) {
            return false;
          }
          // DDLs fall on fixed ticks of the datagen history, the window on the wall clock: wait for one in it.
          long ddls = sourceDdls(source, started, checkpoint);
          seen.append(", source DDLs in the window ").append(ddls);
          return ddls > 0;
        });
    assertThat(record().epoch()).as("the takeover persisted a newer epoch").isGreaterThan(epochBefore);

    ClusterProbe.onCoordinator(awaitLeader(), c -> c.pause(CF));
    Await.until("every dispatcher manager of the paused changefeed closed", Duration.ofMinutes(1), () -> cluster.live().stream().allMatch(n ->
        ClusterProbe.onContext(n.dispatcherRole().context(), () -> Future.succeededFuture(n.dispatcherRole().orchestrator().manager(CF) == null))));

    // Up to the changefeed's persisted checkpoint: it may never pass an event that is not yet in the sink
    // (DESIGN §9.4), and it is past the crash.
    long finalCheckpoint = checkpoint();
    assertThat(finalCheckpoint).isGreaterThan(checkpointAtCrash);
    CheckReport report = FileSinkCheck.check(source, sink, OptionalLong.empty(), OptionalLong.of(finalCheckpoint));
    assertThat(report.ddls()).as("DDLs in the window").isPositive();
    assertThat(report.equal()).as(report::render).isTrue();
  }

  /** The source's DDLs in {@code (from, until]}, from the model's DDL slots alone (no rows replayed: this is polled). */
  private static long sourceDdls(String source, long from, long until) {
    DatagenModel model = DatagenModel.of(DatagenSpec.parse(EndpointUri.parse("source", source)));
    return model.timeline().ticksIn(from, until).filter(tick -> model.ddlAt(tick) != null).count();
  }

  private NodeRuntime awaitLeader() {
    Await.until("a coordinator", Duration.ofMinutes(1), () -> cluster.leader().isPresent());
    return cluster.leader().orElseThrow();
  }

  private ChangefeedRecord record() {
    return ClusterProbe.onCoordinator(awaitLeader(), c -> Future.succeededFuture(c.query(CF).orElseThrow()));
  }

  private long checkpoint() {
    return record().status().getCheckpointTs();
  }

  private static long physicalMs(long ts) {
    return ts >>> 18;
  }
}
