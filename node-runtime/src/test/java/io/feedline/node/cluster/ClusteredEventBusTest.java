package io.feedline.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.messaging.Addresses;
import io.feedline.proto.DispatcherId;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three clustered Vert.x nodes in one JVM, joined over loopback Hazelcast with the shipped
 * conf/hazelcast.xml, exchange control messages through the protobuf codec.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusteredEventBusTest {

  private static final String CLUSTER = "feedline-test-" + UUID.randomUUID();
  private static final List<Vertx> nodes = new ArrayList<>();
  private static final List<ControlBus> buses = new ArrayList<>();
  private static final List<SimpleMeterRegistry> metrics = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    for (int i = 1; i <= 3; i++) {
      Config hz = HazelcastSetup.load(Path.of("../conf/hazelcast.xml"));
      // The shipped file is used as is, except: no join wait (tests only). The cluster of our own comes
      // from the cluster id, as on a node.
      hz.setProperty("hazelcast.wait.seconds.before.join", "0");
      hz.setProperty("hazelcast.max.wait.seconds.before.join", "1");
      Vertx vertx = Vertx.builder()
          .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1").setPort(0)))
          .withClusterManager(HazelcastSetup.clusterManager(hz, CLUSTER))
          .buildClustered()
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      nodes.add(vertx);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      metrics.add(registry);
      buses.add(new ControlBus(vertx, NodeId.of("n" + i), registry));
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void controlMessagesCrossNodesThroughTheCodecAndGarbageIsDropped() throws Exception {
    List<Inbound> onN2 = new CopyOnWriteArrayList<>();
    List<Inbound> onN3 = new CopyOnWriteArrayList<>();
    await(buses.get(1).register(Role.DISPATCHER_ORCHESTRATOR, onN2::add));
    await(buses.get(2).register(Role.DISPATCHER_ORCHESTRATOR, onN3::add));

    ScheduleDispatcherRequest request = ScheduleDispatcherRequest.newBuilder()
        .setChangefeedId("cf1")
        .setEpoch(1_700_000_000_000L << 18)
        .addItems(DispatcherSchedule.newBuilder()
            .setId(DispatcherId.newBuilder().setHigh(1).setLow(2))
            .setSpan(TableSpan.newBuilder().setTableId(42).setStartKey(com.google.protobuf.ByteString.copyFromUtf8("a")))
            .setStartTs(99))
        .build();
    NodeId n2 = NodeId.of("n2");
    NodeId n3 = NodeId.of("n3");

    // Subscriptions propagate through Hazelcast asynchronously: resend until seen, as protocols do.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((onN2.isEmpty() || onN3.isEmpty()) && System.nanoTime() < deadline) {
      nodes.get(0).eventBus().send(Addresses.of(n2, Role.DISPATCHER_ORCHESTRATOR), Buffer.buffer(new byte[] {0x0a, (byte) 0xff}));
      buses.get(0).send(n2, Role.DISPATCHER_ORCHESTRATOR, request);
      buses.get(0).send(n3, Role.DISPATCHER_ORCHESTRATOR, request);
      Thread.sleep(100);
    }

    assertThat(onN2).isNotEmpty();
    assertThat(onN3).isNotEmpty();
    for (Inbound in : List.of(onN2.get(0), onN3.get(0))) {
      assertThat(in.from()).isEqualTo(NodeId.of("n1"));
      assertThat(in.as(ScheduleDispatcherRequest.class)).isEqualTo(request);
    }
    // Garbage sent to n2 across the cluster is counted there and never reaches the handler.
    while (metrics.get(1).find("feedline.bus.malformed").counter() == null && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(metrics.get(1).get("feedline.bus.malformed").tag("reason", "unexpected_body").counter().count()).isGreaterThanOrEqualTo(1);
    assertThat(onN2).allSatisfy(in -> assertThat(in.payload()).isEqualTo(request));
  }

  @Test
  void aNodeOfAnotherClusterIdOnTheSameHostStaysOutOfTheCluster() throws Exception {
    // Same XML, same loopback member list: only the cluster id differs.
    Config hz = HazelcastSetup.load(Path.of("../conf/hazelcast.xml"));
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    var manager = HazelcastSetup.clusterManager(hz, CLUSTER + "-other");
    Vertx other = await(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1").setPort(0)))
        .withClusterManager(manager)
        .buildClustered());
    try {
      assertThat(manager.getNodes()).hasSize(1);
      var firstManager = (io.vertx.core.internal.VertxInternal) nodes.get(0);
      assertThat(firstManager.clusterManager().getNodes()).hasSize(3).doesNotContain(manager.getNodeId());
    } finally {
      await(other.close());
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
