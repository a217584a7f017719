package io.feedline.dispatcher;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Addresses;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.testing.ReceivedMessages;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The role on a real event bus: a maintainer on another node id talks to it, the session loss is injected. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS) // the whole test: its waits have no deadline of their own (Eventually)
class DispatcherOrchestratorVerticleTest {

  private static final NodeId NODE = NodeId.of("dispatcher-node");
  private static final NodeId MAINTAINER = NodeId.of("maintainer-node");

  private final ReceivedMessages received = new ReceivedMessages();
  private final AtomicReference<Runnable> loseSession = new AtomicReference<>();
  private ControlBus maintainerBus;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target"), List.of(), false, "test", null, "127.0.0.1", Timings.DEFAULTS);
    NodeContext node = new NodeContext(NODE, 1, config, null, null, null, null, new ControlBus(vertx, NODE, metrics), metrics);
    DispatcherOrchestratorVerticle verticle = new DispatcherOrchestratorVerticle(node, loseSession::set, new ProviderEndpoints());
    maintainerBus = new ControlBus(vertx, MAINTAINER, metrics);
    maintainerBus.register(Role.MAINTAINER_MANAGER, in -> received.add(in.payload()))
        .compose(registered -> vertx.deployVerticle(verticle))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void answersOverTheBusSurvivesGarbageAndSelfFencesOnSessionLoss(Vertx vertx, VertxTestContext ctx) {
    send(Requests.bootstrap("cf1", 5));
    received.next(MaintainerBootstrapResponse.class, r -> r.getChangefeedId().equals("cf1"))
        .compose(bootstrapped -> {
          assertThat(bootstrapped.getEpoch()).isEqualTo(5);
          vertx.eventBus().send(Addresses.of(NODE, Role.DISPATCHER_ORCHESTRATOR), "garbage");
          send(Requests.create("cf1", 5, id(1), table(1)));
          return received.next(DispatcherHeartbeat.class,
              hb -> hb.getStatusesCount() == 1 && hb.getStatuses(0).getState() == ComponentState.COMPONENT_STATE_WORKING);
        })
        .compose(working -> {
          assertThat(working.getEpoch()).isEqualTo(5);
          loseSession.get().run();
          send(Requests.bootstrap("cf2", 5));
          return closeUntilConfirmed("cf1", 5);
        })
        .compose(closed -> {
          // A close is always answered, and a changefeed's requests are handled in order on its own lane: once cf2's
          // close is answered, an answer to its bootstrap would have been sent before it.
          send(Requests.close("cf2", 5));
          return received.next(MaintainerCloseResponse.class, r -> r.getChangefeedId().equals("cf2"));
        })
        .onComplete(ctx.succeeding(cf2Closed -> ctx.verify(() -> {
          assertThat(received.all()).noneMatch(m -> m instanceof MaintainerBootstrapResponse r && r.getChangefeedId().equals("cf2"));
          ctx.completeNow();
        })));
  }

  /** Sends a close of {@code cf} until it is answered with success. */
  private Future<MaintainerCloseResponse> closeUntilConfirmed(String cf, long epoch) {
    send(Requests.close(cf, epoch));
    return received.next(MaintainerCloseResponse.class, r -> r.getChangefeedId().equals(cf)).compose(closed -> {
      assertThat(closed.getEpoch()).isEqualTo(epoch);
      // The self-fence closed the manager already; its data lane finishes stopping soon after, and a resend says so.
      return closed.getSuccess() ? Future.succeededFuture(closed) : closeUntilConfirmed(cf, epoch);
    });
  }

  private void send(Message request) {
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, request);
  }
}
