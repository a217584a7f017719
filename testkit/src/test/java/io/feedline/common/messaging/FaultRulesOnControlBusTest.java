package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link FaultRules} as the control bus's interceptor: what the simulation and the chaos tests inject faults with. */
class FaultRulesOnControlBusTest extends TwoNodeBuses {

  private final List<Inbound> received = new CopyOnWriteArrayList<>();

  @Test
  void outboundInterceptorDropsByTypeAndNodePair(Vertx vertx, VertxTestContext ctx) {
    FaultRules faults = new FaultRules(1);
    faults.drop(N1, N2, "ScheduleDispatcherRequest");
    bus1.addOutboundInterceptor(faults);
    bus2.register(Role.DISPATCHER_ORCHESTRATOR, in -> {
      received.add(in);
      // The close is sent last on the same path; delivery is in order, so once it is here a schedule
      // from n1 that was not dropped would be here too.
      if (in.type().equals("MaintainerCloseRequest")) {
        ctx.verify(() -> {
          assertThat(received).extracting(Inbound::type).containsExactly("ScheduleDispatcherRequest", "MaintainerCloseRequest");
          assertThat(received.get(0).from()).isEqualTo(N2);
          assertThat(metrics.find("feedline.bus.intercepted").tag("verdict", "drop").counter().count()).isEqualTo(1);
          ctx.completeNow();
        });
      }
    }).onComplete(ctx.succeeding(c -> {
      bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, schedule(1)); // dropped
      bus2.send(N2, Role.DISPATCHER_ORCHESTRATOR, schedule(2)); // other pair: delivered
      bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setEpoch(3).build()); // other type
    }));
  }

  @Test
  void inboundInterceptorDelaysAndReordersAndDuplicates(Vertx vertx, VertxTestContext ctx) {
    FaultRules faults = new FaultRules(7);
    faults.add(new FaultRules.Rule(Set.of("ScheduleDispatcherRequest"), N1, N2, FaultRules.Action.DELAY, 1.0, 100));
    faults.add(new FaultRules.Rule(Set.of("MaintainerCloseRequest"), N1, N2, FaultRules.Action.DUPLICATE, 1.0, 10));
    bus2.addInboundInterceptor(faults);
    bus2.register(Role.DISPATCHER_ORCHESTRATOR, in -> {
      received.add(in);
      if (received.size() == 3) {
        ctx.verify(() -> {
          // The delayed schedule was sent first but arrives after both copies of the close.
          assertThat(received).extracting(Inbound::type)
              .containsExactly("MaintainerCloseRequest", "MaintainerCloseRequest", "ScheduleDispatcherRequest");
          ctx.completeNow();
        });
      }
    }).onComplete(ctx.succeeding(c -> {
      bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, schedule(1));
      bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setEpoch(1).build());
    }));
  }

  @Test
  void partitionCutsBothDirectionsUntilHealed(Vertx vertx, VertxTestContext ctx) {
    FaultRules faults = new FaultRules(3);
    bus1.addOutboundInterceptor(faults);
    bus2.addOutboundInterceptor(faults);
    var cut = faults.partition(N1, N2);
    bus1.register(Role.COORDINATOR, received::add)
        .compose(c -> bus2.register(Role.COORDINATOR, received::add))
        .onComplete(ctx.succeeding(c -> {
          bus1.send(N2, Role.COORDINATOR, schedule(1));
          bus2.send(N1, Role.COORDINATOR, schedule(2));
          faults.removeAll(cut);
          // Sent after the cut ones on the same paths: when these arrive, the cut ones would have too.
          bus2.send(N1, Role.COORDINATOR, schedule(4));
          bus1.send(N2, Role.COORDINATOR, schedule(3));
          vertx.setPeriodic(10, t -> {
            if (received.size() >= 2) {
              vertx.cancelTimer(t);
              ctx.verify(() -> {
                assertThat(received).extracting(i -> i.as(ScheduleDispatcherRequest.class).getEpoch()).containsExactlyInAnyOrder(3L, 4L);
                assertThat(metrics.find("feedline.bus.intercepted").tag("verdict", "drop").counters())
                    .map(co -> co.count()).containsExactly(2.0);
                ctx.completeNow();
              });
            }
          });
        }));
  }
}
