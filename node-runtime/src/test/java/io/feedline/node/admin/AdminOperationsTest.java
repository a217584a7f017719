package io.feedline.node.admin;

import static io.feedline.common.testing.Await.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.id.NodeId;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.proto.CreateChangefeedRequest;
import io.feedline.proto.DrainNodeRequest;
import io.feedline.proto.ResumeChangefeedRequest;
import io.feedline.proto.UpdateChangefeedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Refusals of the shared admin logic. The coordinator role, membership, store and forwarder are absent
 * (null): a refused request must be answered before it touches any of them.
 */
class AdminOperationsTest {

  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final Caller ANONYMOUS = new Caller(null, false);
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

  private AdminOperations operations(String token) {
    return new AdminOperations(NodeId.of("n1"), null, null, null, null, new ProviderEndpoints(), null,
        token, Clock.fixed(NOW, ZoneOffset.UTC), metrics);
  }

  private static CreateChangefeedRequest.Builder create() {
    return CreateChangefeedRequest.newBuilder().setId("cf1").setSourceUri("datagen://?tables=1").setSinkUri("blackhole://");
  }

  private AdminError refusal(Future<?> answer, GrpcStatus status) {
    AdminError e = (AdminError) awaitFailure(answer);
    assertThat(e.status()).isEqualTo(status);
    assertThat(e.getMessage()).doesNotContain("\n");
    return e;
  }

  @Test
  void missingOrWrongTokenIsRefusedAndCounted() {
    AdminOperations ops = operations("s3cret");
    assertThat(refusal(ops.createChangefeed(create().build(), ANONYMOUS), GrpcStatus.UNAUTHENTICATED).getMessage()).isEqualTo("missing bearer token");
    assertThat(refusal(ops.createChangefeed(create().build(), new Caller("Bearer s3cre", false)), GrpcStatus.UNAUTHENTICATED).getMessage())
        .isEqualTo("wrong bearer token").doesNotContain("s3cr");
    assertThat(metrics.get("feedline.admin.requests").tags("operation", "CreateChangefeed", "status", "UNAUTHENTICATED").counter().count()).isEqualTo(2);
  }

  @Test
  void malformedInputIsRefusedWithTheReasonAndCounted() {
    AdminOperations ops = operations("");
    assertThat(refusal(ops.createChangefeed(create().setId("").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .isEqualTo("changefeed id is missing");
    assertThat(refusal(ops.createChangefeed(create().setId("a b").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .isEqualTo("invalid changefeed id 'a b'");
    assertThat(refusal(ops.createChangefeed(create().setSourceUri("mysql://h/db").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .contains("unknown source scheme 'mysql'");
    assertThat(refusal(ops.createChangefeed(create().setSinkUri("kafka://u:hunter2@h/t").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .contains("unknown sink scheme 'kafka'").doesNotContain("hunter2");
    assertThat(refusal(ops.createChangefeed(create().setSinkUri("").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .contains("sink URI is empty");
    assertThat(refusal(ops.createChangefeed(create().setStartTs(-1).build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .isEqualTo("start ts -1 is negative");
    long inOneSecond = (NOW.toEpochMilli() + 1000) << TimestampOracle.LOGICAL_BITS;
    assertThat(refusal(ops.createChangefeed(create().setStartTs(inOneSecond).build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT).getMessage())
        .contains("is in the future");
    assertThat(refusal(ops.resumeChangefeed(ResumeChangefeedRequest.newBuilder().setId("cf1").setOverwriteCheckpointTs(inOneSecond).build(), ANONYMOUS),
        GrpcStatus.INVALID_ARGUMENT).getMessage()).startsWith("overwrite checkpoint ts");
    assertThat(refusal(ops.updateChangefeed(UpdateChangefeedRequest.newBuilder().setId("cf1").setSinkUri("nope").build(), ANONYMOUS),
        GrpcStatus.INVALID_ARGUMENT).getMessage()).contains("must look like scheme://");
    assertThat(metrics.get("feedline.admin.requests").tags("operation", "CreateChangefeed", "status", "INVALID_ARGUMENT").counter().count()).isEqualTo(7);
  }

  @Test
  void aDrainWithoutANodeIsRefusedBeforeAnythingIsTouched() {
    assertThat(refusal(operations("").drainNode(DrainNodeRequest.newBuilder().setNodeId(" ").build(), ANONYMOUS), GrpcStatus.INVALID_ARGUMENT)
        .getMessage()).isEqualTo("node id is missing");
  }

  @Test
  void adminAddressesAreParsedStrictly() {
    assertThat(AdminRpc.address("127.0.0.1:8300").port()).isEqualTo(8300);
    assertThatThrownBy(() -> AdminRpc.address("127.0.0.1")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> AdminRpc.address("127.0.0.1:0")).hasMessageContaining("1..65535");
    assertThatThrownBy(() -> AdminRpc.address("h:x")).hasMessageContaining("1..65535");
  }

  @Test
  void statusesMapToHttp() {
    assertThat(new AdminError(GrpcStatus.NOT_FOUND, "x").httpStatus()).isEqualTo(404);
    assertThat(new AdminError(GrpcStatus.ALREADY_EXISTS, "x").httpStatus()).isEqualTo(409);
    assertThat(new AdminError(GrpcStatus.UNAUTHENTICATED, "x").httpStatus()).isEqualTo(401);
    assertThat(AdminError.of(new IllegalStateException("boom")).status()).isEqualTo(GrpcStatus.INTERNAL);
  }
}
