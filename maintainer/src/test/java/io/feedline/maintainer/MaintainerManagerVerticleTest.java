package io.feedline.maintainer;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.FaultRules;
import io.feedline.common.messaging.Role;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeContext;
import io.feedline.common.testing.ReceivedMessages;
import io.feedline.common.time.VertxScheduler;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.NodeRegistration;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.SchemaInfo;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The role deployed on node n1 of a real local event bus, with a two-node membership in an embedded
 * metastore. Node n2 plays the coordinator and, with n1, the dispatcher orchestrators (answering the
 * real maintainer's bootstrap for a changefeed without tables); n2's first
 * close confirmation is dropped on the wire, so the removal only completes through a resend.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS) // the whole test: its waits have no deadline of their own (Eventually)
class MaintainerManagerVerticleTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final Timings FAST = new Timings(Duration.ofSeconds(10), Duration.ofMillis(500), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofSeconds(5),
      Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(15));

  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final ReceivedMessages atCoordinator = new ReceivedMessages();
  private final AtomicInteger closeRequestsAtN2 = new AtomicInteger();
  private MetaStore store;
  private ClusterMembership membership;
  private ControlBus busN2;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    MetaKeys keys = new MetaKeys("test");
    ControlBus busN1 = new ControlBus(vertx, N1, metrics);
    busN2 = new ControlBus(vertx, N2, metrics);
    FaultRules faults = new FaultRules(1);
    FaultRules.Rule dropFirstConfirmation = faults.drop(N2, N1, "MaintainerCloseResponse");
    busN2.addOutboundInterceptor(faults);

    MetaStores.embedded(vertx, dir.resolve("meta"))
        .compose(opened -> {
          store = opened;
          return Future.all(Stream.of(N1, N2)
              .map(node -> store.put(keys.node(node), NodeRegistration.newBuilder().setNodeId(node.value()).build().toByteArray())).toList());
        })
        .compose(registered -> {
          membership = new ClusterMembership(store, keys, VertxScheduler.onCurrentContext(vertx));
          return membership.start();
        })
        .compose(started -> busN2.register(Role.COORDINATOR, in -> atCoordinator.add(in.payload())))
        .compose(registered -> busN2.register(Role.DISPATCHER_ORCHESTRATOR, in -> {
          if (in.payload() instanceof MaintainerCloseRequest close) {
            if (closeRequestsAtN2.incrementAndGet() == 2) {
              faults.remove(dropFirstConfirmation);
            }
            busN2.send(in.from(), Role.MAINTAINER_MANAGER, confirmation(close));
          } else {
            answerBootstrap(busN2, in.from(), in.payload());
          }
        }))
        .compose(registered -> busN1.register(Role.DISPATCHER_ORCHESTRATOR, in -> {
          if (in.payload() instanceof MaintainerCloseRequest close) {
            busN1.send(in.from(), Role.MAINTAINER_MANAGER, confirmation(close));
          } else {
            answerBootstrap(busN1, in.from(), in.payload());
          }
        }))
        .compose(registered -> {
          NodeConfig config = new NodeConfig("127.0.0.1", 0, dir, List.of(), false, "test", null, "127.0.0.1", FAST);
          NodeContext node = new NodeContext(N1, 1, config, store, keys, null, membership, busN1, metrics);
          return vertx.deployVerticle(new MaintainerManagerVerticle(node));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeStore(VertxTestContext ctx) {
    if (membership != null) {
      membership.stop();
    }
    (store == null ? Future.<Void>succeededFuture() : store.close()).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A dispatcher side with no tables: a bootstrap is answered with an empty snapshot, or with the table
   * trigger it names and an empty table list; a post-bootstrap is acknowledged.
   */
  private static void answerBootstrap(ControlBus bus, NodeId to, Message request) {
    if (request instanceof MaintainerBootstrapRequest r) {
      MaintainerBootstrapResponse.Builder response = MaintainerBootstrapResponse.newBuilder().setChangefeedId(r.getChangefeedId())
          .setEpoch(r.getEpoch());
      if (r.hasTableTriggerEventDispatcherId()) {
        response.addDispatchers(DispatcherSnapshot.newBuilder().setId(r.getTableTriggerEventDispatcherId())
                .setSpan(TableSpan.getDefaultInstance()).setState(ComponentState.COMPONENT_STATE_INITIALIZING).setCheckpointTs(r.getStartTs()))
            .setTriggerCheckpointTs(r.getStartTs()).addSchemasAtStart(SchemaInfo.getDefaultInstance());
      }
      bus.send(to, Role.MAINTAINER_MANAGER, response.build());
    } else if (request instanceof MaintainerPostBootstrapRequest r) {
      bus.send(to, Role.MAINTAINER_MANAGER, MaintainerPostBootstrapResponse.newBuilder().setChangefeedId(r.getChangefeedId())
          .setTableTriggerEventDispatcherId(r.getTableTriggerEventDispatcherId()).setEpoch(r.getEpoch()).build());
    }
  }

  private static MaintainerCloseResponse confirmation(MaintainerCloseRequest request) {
    return MaintainerCloseResponse.newBuilder().setChangefeedId(request.getChangefeedId()).setSuccess(true)
        .setEpoch(request.getEpoch()).build();
  }

  private static Predicate<MaintainerHeartbeat> reports(ComponentState state, long epoch) {
    return hb -> hb.getStatusesList().stream().anyMatch(s -> s.getChangefeedId().equals("cf1") && s.getState() == state && s.getEpoch() == epoch);
  }

  @Test
  void servesTheCoordinatorProtocolOverTheEventBus(VertxTestContext ctx) {
    busN2.send(N1, Role.MAINTAINER_MANAGER, NodeHeartbeat.getDefaultInstance());
    busN2.send(N1, Role.MAINTAINER_MANAGER, CoordinatorBootstrapRequest.newBuilder().setElectionVersion(3).build());
    atCoordinator.next(CoordinatorBootstrapResponse.class)
        .compose(bootstrapped -> {
          assertThat(bootstrapped.getElectionVersion()).isEqualTo(3);
          busN2.send(N1, Role.MAINTAINER_MANAGER, AddMaintainerRequest.newBuilder().setElectionVersion(3).setChangefeedId("cf1")
              .setConfig(ChangefeedInfo.newBuilder().setId("cf1").setSinkUri("blackhole://").build().toByteString())
              .setCheckpointTs(42).setEpoch(5).build());
          return atCoordinator.next(MaintainerHeartbeat.class, reports(ComponentState.COMPONENT_STATE_WORKING, 5));
        })
        .compose(workingHeartbeat -> {
          MaintainerStatus working = workingHeartbeat.getStatuses(0);
          assertThat(working.getCheckpointTs()).isEqualTo(42);
          assertThat(working.getBootstrapDone()).isTrue();
          busN2.send(N1, Role.MAINTAINER_MANAGER, RemoveMaintainerRequest.newBuilder().setElectionVersion(3).setChangefeedId("cf1")
              .setCascade(true).setRemoved(true).setEpoch(5).build());
          return atCoordinator.next(MaintainerHeartbeat.class, reports(ComponentState.COMPONENT_STATE_REMOVED, 5));
        })
        .onComplete(ctx.succeeding(removed -> ctx.verify(() -> {
          // The removal completed only through a resend of the close whose confirmation was dropped.
          assertThat(closeRequestsAtN2.get()).isGreaterThanOrEqualTo(2);
          assertThat(metrics.find("feedline.bus.intercepted").tag("type", "MaintainerCloseResponse").counter().count()).isEqualTo(1);
          assertThat(metrics.find("feedline.role.unhandled").tag("type", "NodeHeartbeat").counter().count()).isEqualTo(1);
          assertThat(metrics.find("feedline.maintainer_manager.maintainers").gauge().value()).isZero();
          ctx.completeNow();
        })));
  }
}
