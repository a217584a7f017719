package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.ScheduleAction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Remote input never breaks the orchestrator, and no path leaves a lane slot or a manager behind. */
class OrchestratorRobustnessTest {

  private static final String CF = "cf1";
  private static final ChangefeedId CFID = ChangefeedId.of(CF);
  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");

  private final OrchestratorFixture f = new OrchestratorFixture();

  private MaintainerBootstrapRequest bootstrapWith(ByteString config) {
    return Requests.bootstrap(CF, 5).toBuilder().setConfig(config).build();
  }

  @Test
  void aBadConfigOrSinkUriIsAClearErrorReplyWithoutThePasswordAndLeavesNothingBehind() {
    f.deliver(N1, bootstrapWith(ByteString.copyFromUtf8("\u0007not a protobuf")));
    MaintainerBootstrapResponse bad = f.outbox.last(MaintainerBootstrapResponse.class);
    assertThat(bad.getError().getCode()).isEqualTo("manager_open_failed");
    assertThat(bad.getError().getMessage()).contains("not a ChangefeedInfo");
    assertThat(bad.getEpoch()).isEqualTo(5);

    f.deliver(N1, bootstrapWith(ByteString.copyFrom(Requests.config(Requests.SOURCE, "mysql://root:hunter2@db:3306/x"))));
    MaintainerBootstrapResponse unknown = f.outbox.last(MaintainerBootstrapResponse.class);
    assertThat(unknown.getError().getMessage()).contains("unknown sink scheme 'mysql'").contains("root:***@db").doesNotContain("hunter2");

    f.deliver(N1, bootstrapWith(ByteString.copyFrom(Requests.config("datagen://?tables=0", "blackhole://"))));
    assertThat(f.outbox.last(MaintainerBootstrapResponse.class).getError().getMessage()).contains("tables must be within");

    assertThat(f.orchestrator.manager(CFID)).isNull();
    assertThat(f.notices("MaintainerBootstrapRequest", "manager_open_failed")).isEqualTo(3);
    assertThat(f.orchestrator.busyChangefeeds()).isZero();
    // Control messages from the owner are answered by "no manager", not by a crash.
    f.deliver(N1, Requests.create(CF, 5, id(1), table(1)));
    assertThat(f.notices("ScheduleDispatcherRequest", "no_manager")).isEqualTo(1);
  }

  @Test
  void malformedRequestsAreCountedAndAnsweredOnceWithAReason() {
    f.deliver(N1, Requests.bootstrap("not a valid id!", 5));
    f.deliver(N1, Requests.bootstrap("", 5));
    assertThat(f.notices("MaintainerBootstrapRequest", "invalid_changefeed_id")).isEqualTo(2);
    assertThat(f.outbox.all()).isEmpty();

    f.deliver(N1, Requests.bootstrap(CF, 5));
    f.deliver(N1, Requests.schedule(CF, 5,
        DispatcherSchedule.newBuilder().setId(id(1).proto()).setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).build(),
        DispatcherSchedule.newBuilder().setSpan(table(1)).build()));
    assertThat(f.notices("ScheduleDispatcherRequest", "missing_span")).isEqualTo(1);
    assertThat(f.notices("ScheduleDispatcherRequest", "missing_dispatcher_id")).isEqualTo(1);
    f.deliver(N1, Requests.postBootstrap(CF, 5, id(0)).toBuilder().clearTableTriggerEventDispatcherId().build());
    assertThat(f.notices("MaintainerPostBootstrapRequest", "missing_dispatcher_id")).isEqualTo(1);
    f.deliver(N1, Requests.postBootstrap(CF, 5, id(3)));
    assertThat(f.outbox.last(MaintainerPostBootstrapResponse.class).getError().getCode()).isEqualTo("trigger_mismatch");

    assertThat(f.orchestrator.handles(CoordinatorBootstrapRequest.getDefaultInstance())).isFalse();
    assertThat(f.deliver(N1, CoordinatorBootstrapRequest.getDefaultInstance()).succeeded()).isTrue();
    assertThat(f.orchestrator.busyChangefeeds()).isZero();
  }

  @Test
  void failingAndThrowingEndpointsReleaseTheLaneAndFencedPathsLeakNothing() {
    ManualScheduler scheduler = new ManualScheduler(0);
    Endpoints throwing = new Endpoints() {
      @Override
      public Future<Source> openSource(String uri, EndpointContext context) {
        throw new IllegalStateException("provider bug");
      }

      @Override
      public Future<Sink> openSink(String uri, EndpointContext context) {
        throw new IllegalStateException("provider bug");
      }
    };
    RecordingOutbox outbox = new RecordingOutbox();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    DataPlane dataPlane = DataPlane.onScheduler(scheduler, 64L << 20, metrics);
    DispatcherOrchestrator o = new DispatcherOrchestrator(OrchestratorFixture.SELF, throwing, dataPlane, scheduler, outbox, metrics,
        Duration.ofMillis(200));
    for (int i = 0; i < 3; i++) {
      assertThat(o.handle(N1, Requests.bootstrap(CF, 5)).succeeded()).isTrue();
      assertThat(o.handle(N1, Requests.create(CF, 5, id(1), table(1))).succeeded()).isTrue();
      assertThat(o.handle(N2, Requests.bootstrap(CF, 4)).succeeded()).isTrue();
      assertThat(o.handle(N2, Requests.close(CF, 4)).succeeded()).isTrue();
    }
    assertThat(metrics.find("feedline.dispatcher.notices").tag("reason", "handler_failed").counter().count()).isEqualTo(3);
    assertThat(o.busyChangefeeds()).isZero();
    assertThat(o.managerCount()).isZero();
  }

  @Test
  void aFullLaneDropsAndCountsInsteadOfGrowingForever() {
    f.endpoints.holdOpen("never");
    f.deliver(N1, Requests.bootstrap(CF, 5, "test://never"));
    for (int i = 0; i < DispatcherOrchestrator.MAX_WAITING_PER_CHANGEFEED + 10; i++) {
      f.deliver(N1, Requests.bootstrap(CF, 5, "test://never"));
    }
    assertThat(f.notices("MaintainerBootstrapRequest", "queue_full")).isEqualTo(10);
    f.endpoints.releaseOpen("never");
    assertThat(f.orchestrator.busyChangefeeds()).isZero();
    assertThat(f.orchestrator.manager(CFID)).isNotNull();
  }

  @Test
  void losingTheSessionStopsEveryWritePathAtOnceAndCreatesNothingAfter() {
    ControllableSink a = f.endpoints.sink("a");
    ControllableSink b = f.endpoints.sink("b").holdWrites();
    f.deliver(N1, Requests.bootstrap("cf-a", 5, "test://a", id(0x7), null));
    f.deliver(N1, Requests.postBootstrap("cf-a", 5, id(0x7)));
    f.deliver(N1, Requests.create("cf-a", 5, id(1), table(1)));
    f.deliver(N1, Requests.bootstrap("cf-b", 5, "test://b"));
    f.deliver(N1, Requests.create("cf-b", 5, id(2), table(2)));
    f.scheduler.advance(1_000);
    assertThat(b.heldWriteCount()).isEqualTo(1);
    ManagerRuntime ma = f.orchestrator.manager(ChangefeedId.of("cf-a"));
    ManagerRuntime mb = f.orchestrator.manager(ChangefeedId.of("cf-b"));

    f.orchestrator.selfFence();
    assertThat(a.closeRequested()).isTrue();
    assertThat(b.closeRequested()).isTrue();
    assertThat(ma.manager().writePathStopped()).isTrue();
    f.scheduler.runDue(); // the dispatchers stop on their lane
    assertThat(ma.manager().dispatcherIds()).isEmpty();
    assertThat(mb.manager().state(id(2))).as("its write is still in flight").isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
    int writes = b.written().size();
    b.releaseWrites();
    f.scheduler.advance(1_000);
    assertThat(mb.manager().dispatcherIds()).isEmpty();
    assertThat(b.written()).as("nothing written after the fence").hasSize(writes);

    f.outbox.clear();
    f.deliver(N1, Requests.bootstrap("cf-c", 5));
    f.deliver(N1, Requests.create("cf-a", 5, id(3), table(3)));
    assertThat(f.orchestrator.manager(ChangefeedId.of("cf-c"))).isNull();
    assertThat(f.notices("MaintainerBootstrapRequest", "self_fenced")).isEqualTo(1);
    assertThat(f.outbox.of(MaintainerBootstrapResponse.class)).isEmpty();
    // Closes are still answered, so maintainers see the managers go.
    f.deliver(N1, Requests.close("cf-a", 5));
    assertThat(f.outbox.last(MaintainerCloseResponse.class).getSuccess()).isTrue();
    assertThat(f.orchestrator.busyChangefeeds()).isZero();
  }
}
