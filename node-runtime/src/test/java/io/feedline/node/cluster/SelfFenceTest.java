package io.feedline.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.testing.Eventually;
import io.feedline.common.testing.ReceivedMessages;
import io.feedline.node.NodeOnEtcd;
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
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A node on a real etcd whose session lease is revoked behind its back: within one dispatcher heartbeat of
 * noticing, its dispatchers write nothing more to the sink, its liveness is STOPPING, and it leaves.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class SelfFenceTest extends NodeOnEtcd {

  private static final String CF = "fenced";
  private static final long EPOCH = 5;

  private NodeRuntime node;

  @Test
  void losingTheSessionStopsEveryWriteWithinOneHeartbeatAndTheNodeGoesStopping(Vertx vertx, VertxTestContext ctx) throws IOException {
    String clusterId = "fence" + UUID.randomUUID().toString().substring(0, 8);
    Path sinkDir = Files.createDirectories(Path.of("target", "self-fence", clusterId, "sink").toAbsolutePath());
    Timings timings = Timings.fromMap(Map.of("session-ttl", Duration.ofSeconds(5)));
    long heartbeat = timings.dispatcherHeartbeat().toMillis();
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target", "self-fence", clusterId, "data"), List.of(etcd.endpoint()),
        false, clusterId, Path.of("../conf/hazelcast.xml"), "127.0.0.1", timings);
    ReceivedMessages answers = new ReceivedMessages();
    (starting = NodeRuntime.start(config))
        .compose(started -> {
          node = started;
          // A maintainer stand-in on the same event bus starts two dispatchers writing to a file sink.
          ControlBus maintainer = new ControlBus(node.vertx(), NodeId.of("test-maintainer"), new SimpleMeterRegistry());
          return onContext(node.vertx().getOrCreateContext(), () -> maintainer.register(Role.MAINTAINER_MANAGER, in -> answers.add(in.payload())))
              .map(maintainer);
        })
        .compose(maintainer -> {
          maintainer.send(node.nodeId(), Role.DISPATCHER_ORCHESTRATOR, MaintainerBootstrapRequest.newBuilder().setChangefeedId(CF).setEpoch(EPOCH)
              .setConfig(ChangefeedInfo.newBuilder().setId(CF).setSourceUri("datagen://?tables=2&seed=3&rate=2000")
                  .setSinkUri("file://" + sinkDir).build().toByteString()).build());
          return answers.next(MaintainerBootstrapResponse.class).map(maintainer);
        })
        .compose(maintainer -> {
          ScheduleDispatcherRequest.Builder schedule = ScheduleDispatcherRequest.newBuilder().setChangefeedId(CF).setEpoch(EPOCH);
          for (long table = 1; table <= 2; table++) {
            schedule.addItems(DispatcherSchedule.newBuilder().setId(DispatcherId.newBuilder().setHigh(7).setLow(table))
                .setSpan(TableSpan.newBuilder().setTableId(table)).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE)
                .setOperatorType(OperatorType.OPERATOR_TYPE_ADD));
          }
          maintainer.send(node.nodeId(), Role.DISPATCHER_ORCHESTRATOR, schedule.build());
          return vertx.executeBlocking(() -> bytes(sinkDir));
        })
        .compose(before -> Eventually.until(vertx, "the dispatchers write", () -> bytes(sinkDir) > before + 1000))
        .compose(writing -> {
          // Taken when the node notices, not when the test sees it: the heartbeat counts from there.
          Future<Long> lostAt = node.lost().map(reason -> System.nanoTime());
          // The operator (or a partition) ends the session: the lease is revoked behind the node's back.
          return leaseOf(new MetaKeys(clusterId).node(node.nodeId()))
              .compose(lease -> Future.fromCompletionStage(operator.getLeaseClient().revoke(lease)))
              .compose(revoked -> lostAt);
        })
        .compose(lostAt -> {
          // What was in flight when the node noticed may still land within one heartbeat; nothing after that.
          long oneHeartbeatAfter = lostAt + TimeUnit.MILLISECONDS.toNanos(heartbeat);
          return vertx.timer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(oneHeartbeatAfter - System.nanoTime())));
        })
        .compose(oneHeartbeatAfterTheLoss -> vertx.executeBlocking(() -> bytes(sinkDir)))
        .compose(fenced -> Eventually.holdsFor(vertx, Duration.ofMillis(5 * heartbeat),
            "nothing written more than one heartbeat (" + heartbeat + " ms) after the session loss", () -> bytes(sinkDir) == fenced))
        .compose(quiet -> onContext(node.maintainerRole().context(), () -> Future.succeededFuture(node.maintainerRole().liveness())))
        .onComplete(ctx.succeeding(liveness -> ctx.verify(() -> {
          assertThat(liveness).isEqualTo(NodeLiveness.NODE_LIVENESS_STOPPING);
          assertThat(node.dispatcherRole().dispatcherCount()).isZero();
          ctx.completeNow();
        })));
  }

  /** The lease the node's registration is written under: its session. */
  private Future<Long> leaseOf(String registrationKey) {
    return Future.fromCompletionStage(operator.getKVClient().get(ByteSequence.from(registrationKey, StandardCharsets.UTF_8)))
        .map(response -> response.getKvs().get(0).getLease());
  }

  /** What the sink directory holds now; a file the sink renames while it is walked (its checkpoint's temp file) means walk again. */
  private static long bytes(Path dir) {
    while (true) {
      try (Stream<Path> files = Files.walk(dir)) {
        return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof NoSuchFileException)) {
          throw e;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** What {@code action} answers, run on {@code context}: a role's state is read on its own thread. */
  private static <T> Future<T> onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future();
  }
}
