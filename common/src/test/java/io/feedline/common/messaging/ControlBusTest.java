package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.ControlEnvelope;
import io.feedline.proto.FenceToken;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;

class ControlBusTest extends TwoNodeBuses {

  private double malformed(String reason) {
    var c = metrics.find("feedline.bus.malformed").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void deliversPayloadWithSenderToTheRoleOnTheTargetNode(Vertx vertx, VertxTestContext ctx) {
    bus2.register(Role.DISPATCHER_ORCHESTRATOR, in -> ctx.verify(() -> {
      assertThat(in.from()).isEqualTo(N1);
      assertThat(in.type()).isEqualTo("ScheduleDispatcherRequest");
      assertThat(in.as(ScheduleDispatcherRequest.class).getEpoch()).isEqualTo(9);
      assertThat(in.fence()).as("the fencing token travelled with it").isEqualTo(FenceToken.newBuilder().setChangefeedId("cf1").setEpoch(9).build());
      ctx.completeNow();
    })).onComplete(ctx.succeeding(c -> bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, schedule(9))));
  }

  @Test
  void garbageIsCountedAndDroppedAndTheConsumerKeepsWorking(Vertx vertx, VertxTestContext ctx) {
    String address = Addresses.of(N2, Role.DISPATCHER_ORCHESTRATOR);
    bus2.register(Role.DISPATCHER_ORCHESTRATOR, in -> ctx.verify(() -> {
      // The only message that reaches the handler is the well-formed one sent last.
      assertThat(in.as(ScheduleDispatcherRequest.class).getEpoch()).isEqualTo(3);
      assertThat(malformed("unexpected_body")).isEqualTo(3);
      assertThat(malformed("no_payload")).isEqualTo(1);
      assertThat(malformed("no_sender")).isEqualTo(1);
      assertThat(malformed("fence_mismatch")).as("a token that says another epoch than its payload").isEqualTo(1);
      ctx.completeNow();
    })).onComplete(ctx.succeeding(c -> {
      vertx.eventBus().send(address, "hello");
      vertx.eventBus().send(address, Buffer.buffer(new byte[] {(byte) 0xff, 0x01}));
      vertx.eventBus().send(address, new JsonObject().put("epoch", 1));
      vertx.eventBus().send(address, ControlEnvelope.newBuilder().setFromNode("n1").build());
      vertx.eventBus().send(address, ControlEnvelope.newBuilder().setScheduleDispatcherRequest(schedule(2)).build());
      vertx.eventBus().send(address, ControlPayloads.wrap(N1, schedule(4)).toBuilder()
          .setFence(FenceToken.newBuilder().setChangefeedId("cf1").setEpoch(5)).build());
      bus1.send(N2, Role.DISPATCHER_ORCHESTRATOR, schedule(3));
    }));
  }

  @Test
  void malformedRequestWithReplyAddressIsAnsweredWithTheReason(Vertx vertx, VertxTestContext ctx) {
    bus2.register(Role.DISPATCHER_ORCHESTRATOR, in -> ctx.failNow("garbage reached the handler"))
        .onComplete(ctx.succeeding(c -> vertx.eventBus()
            .request(Addresses.of(N2, Role.DISPATCHER_ORCHESTRATOR), "not protobuf")
            .onComplete(ctx.failing(err -> ctx.verify(() -> {
              assertThat(err).hasMessageContaining("malformed control message");
              ctx.completeNow();
            })))));
  }

  @Test
  void aThrowingHandlerIsCountedAndLaterMessagesStillArrive(Vertx vertx, VertxTestContext ctx) {
    bus2.register(Role.MAINTAINER_MANAGER, in -> {
      long epoch = in.as(ScheduleDispatcherRequest.class).getEpoch();
      if (epoch == 1) {
        throw new IllegalStateException("boom");
      }
      ctx.verify(() -> {
        assertThat(metrics.find("feedline.bus.handler.errors").counter().count()).isEqualTo(1);
        ctx.completeNow();
      });
    }).onComplete(ctx.succeeding(c -> {
      bus1.send(N2, Role.MAINTAINER_MANAGER, schedule(1));
      bus1.send(N2, Role.MAINTAINER_MANAGER, schedule(2));
    }));
  }
}
