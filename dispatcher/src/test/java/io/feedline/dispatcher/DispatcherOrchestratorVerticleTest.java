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
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The role on a real event bus: a maintainer on another node id talks to it, the session loss is injected. */
@ExtendWith(VertxExtension.class)
class DispatcherOrchestratorVerticleTest {

  private static final NodeId NODE = NodeId.of("dispatcher-node");
  private static final NodeId MAINTAINER = NodeId.of("maintainer-node");

  private final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
  private final AtomicReference<Runnable> loseSession = new AtomicReference<>();
  private ControlBus maintainerBus;
  private DispatcherOrchestratorVerticle verticle;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target"), List.of(), false, "test", null, "127.0.0.1", Timings.DEFAULTS);
    NodeContext node = new NodeContext(NODE, 1, config, null, null, null, null, new ControlBus(vertx, NODE, metrics), metrics);
    verticle = new DispatcherOrchestratorVerticle(node, loseSession::set, new ProviderEndpoints());
    maintainerBus = new ControlBus(vertx, MAINTAINER, metrics);
    maintainerBus.register(Role.MAINTAINER_MANAGER, in -> received.add(in.payload())).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  /** The next received message matching {@code match}, within a deadline. */
  @SuppressWarnings("unchecked")
  private <T extends Message> T await(Class<T> type, Predicate<T> match) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      Message m = received.poll(100, TimeUnit.MILLISECONDS);
      if (type.isInstance(m) && match.test((T) m)) {
        return (T) m;
      }
    }
    throw new AssertionError("no matching " + type.getSimpleName() + " within 10s");
  }

  @Test
  void answersOverTheBusSurvivesGarbageAndSelfFencesOnSessionLoss(Vertx vertx) throws Exception {
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, Requests.bootstrap("cf1", 5));
    assertThat(await(MaintainerBootstrapResponse.class, r -> r.getChangefeedId().equals("cf1")).getEpoch()).isEqualTo(5);

    vertx.eventBus().send(Addresses.of(NODE, Role.DISPATCHER_ORCHESTRATOR), "garbage");
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, Requests.create("cf1", 5, id(1), table(1)));
    DispatcherHeartbeat working = await(DispatcherHeartbeat.class,
        hb -> hb.getStatusesCount() == 1 && hb.getStatuses(0).getState() == ComponentState.COMPONENT_STATE_WORKING);
    assertThat(working.getEpoch()).isEqualTo(5);

    loseSession.get().run();
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, Requests.bootstrap("cf2", 5));
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, Requests.close("cf1", 5));
    MaintainerCloseResponse closed = await(MaintainerCloseResponse.class, r -> r.getChangefeedId().equals("cf1"));
    assertThat(closed.getEpoch()).isEqualTo(5);
    // The self-fence closed the manager already; its data lane finishes stopping soon after, and a resend says so.
    while (!closed.getSuccess()) {
      maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, Requests.close("cf1", 5));
      closed = await(MaintainerCloseResponse.class, r -> r.getChangefeedId().equals("cf1"));
    }
    // Requests are handled in order per sender, so cf2's bootstrap was refused before cf1's close was answered.
    assertThat(received).noneMatch(m -> m instanceof MaintainerBootstrapResponse r && r.getChangefeedId().equals("cf2"));
  }
}
