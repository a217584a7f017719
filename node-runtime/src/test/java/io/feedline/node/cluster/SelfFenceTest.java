package io.feedline.node.cluster;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.DispatcherId;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node on a real etcd whose session lease is revoked behind its back: within one dispatcher heartbeat of
 * noticing, its dispatchers write nothing more to the sink, its liveness is STOPPING, and it leaves.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SelfFenceTest {

  private static final String CF = "fenced";
  private static final long EPOCH = 5;

  @Test
  void losingTheSessionStopsEveryWriteWithinOneHeartbeatAndTheNodeGoesStopping() throws Exception {
    String clusterId = "fence" + UUID.randomUUID().toString().substring(0, 8);
    Path sinkDir = Files.createDirectories(Path.of("target", "self-fence", clusterId, "sink").toAbsolutePath());
    Timings timings = Timings.fromMap(Map.of("session-ttl", Duration.ofSeconds(5)));
    try (EtcdServer etcd = EtcdServer.start(); Client operator = Client.builder().endpoints(etcd.endpoint()).build()) {
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "self-fence", clusterId, "data"), List.of(etcd.endpoint()),
          false, clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", timings);
      NodeRuntime node = await(NodeRuntime.start(config), Await.NODE_START);
      try {
        // A maintainer stand-in on the same event bus starts two dispatchers writing to a file sink.
        ControlBus maintainer = new ControlBus(node.vertx(), NodeId.of("test-maintainer"), new SimpleMeterRegistry());
        List<Inbound> answers = new CopyOnWriteArrayList<>();
        Context context = node.vertx().getOrCreateContext();
        onContext(context, () -> maintainer.register(Role.MAINTAINER_MANAGER, answers::add).mapEmpty());
        maintainer.send(node.nodeId(), Role.DISPATCHER_ORCHESTRATOR, MaintainerBootstrapRequest.newBuilder().setChangefeedId(CF).setEpoch(EPOCH)
            .setConfig(ChangefeedInfo.newBuilder().setId(CF).setSourceUri("datagen://?tables=2&seed=3&rate=2000")
                .setSinkUri("file://" + sinkDir).build().toByteString()).build());
        awaitTrue("bootstrapped", () -> answers.stream().anyMatch(a -> a.payload() instanceof MaintainerBootstrapResponse));
        ScheduleDispatcherRequest.Builder schedule = ScheduleDispatcherRequest.newBuilder().setChangefeedId(CF).setEpoch(EPOCH);
        for (long table = 1; table <= 2; table++) {
          schedule.addItems(DispatcherSchedule.newBuilder().setId(DispatcherId.newBuilder().setHigh(7).setLow(table))
              .setSpan(TableSpan.newBuilder().setTableId(table)).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE)
              .setOperatorType(OperatorType.OPERATOR_TYPE_ADD));
        }
        maintainer.send(node.nodeId(), Role.DISPATCHER_ORCHESTRATOR, schedule.build());
        long before = bytes(sinkDir);
        awaitTrue("the dispatchers write", () -> bytes(sinkDir) > before + 1000);

        // The operator (or a partition) ends the session: the lease is revoked behind the node's back.
        String key = new MetaKeys(clusterId).node(node.nodeId());
        long lease = operator.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().get(0).getLease();
        long[] lostAt = new long[1];
        Promise<Void> noticed = Promise.promise();
        node.lost().onSuccess(reason -> {
          lostAt[0] = System.nanoTime();
          noticed.complete();
        });
        operator.getLeaseClient().revoke(lease).get(10, TimeUnit.SECONDS);
        await(noticed.future());

        long heartbeat = timings.dispatcherHeartbeat().toMillis();
        sleepUntil(lostAt[0] + TimeUnit.MILLISECONDS.toNanos(heartbeat));
        long fenced = bytes(sinkDir);
        Thread.sleep(5 * heartbeat);
        assertThat(bytes(sinkDir)).as("nothing written more than one heartbeat (%d ms) after the session loss", heartbeat).isEqualTo(fenced);
        assertThat(onContext(node.maintainerRole().context(), () -> Future.succeededFuture(node.maintainerRole().liveness())))
            .isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
        assertThat(node.dispatcherRole().dispatcherCount()).isZero();
      } finally {
        // Leaving is the node's last step (the server command exits on lost()).
        await(node.stop());
      }
    }
  }

  private static long bytes(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static void awaitTrue(String what, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.get()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static <T> T onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return await(done.future());
  }
}
