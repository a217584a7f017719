package io.feedline.node.admin;

import io.feedline.proto.AdminGrpcService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.function.BiFunction;

/** The admin gRPC service: each method of {@code feedline.v1.Admin} bound to its {@link AdminOperations} call. */
final class AdminGrpcEndpoint {

  private AdminGrpcEndpoint() {}

  static GrpcServer server(Vertx vertx, AdminOperations ops) {
    GrpcServer server = GrpcServer.server(vertx);
    bind(server, AdminGrpcService.CreateChangefeed, ops::createChangefeed);
    bind(server, AdminGrpcService.ListChangefeeds, ops::listChangefeeds);
    bind(server, AdminGrpcService.QueryChangefeed, ops::queryChangefeed);
    bind(server, AdminGrpcService.UpdateChangefeed, ops::updateChangefeed);
    bind(server, AdminGrpcService.PauseChangefeed, ops::pauseChangefeed);
    bind(server, AdminGrpcService.ResumeChangefeed, ops::resumeChangefeed);
    bind(server, AdminGrpcService.RemoveChangefeed, ops::removeChangefeed);
    bind(server, AdminGrpcService.ListNodes, ops::listNodes);
    bind(server, AdminGrpcService.DrainNode, ops::drainNode);
    bind(server, AdminGrpcService.ResignCoordinator, ops::resignCoordinator);
    bind(server, AdminGrpcService.Health, ops::health);
    return server;
  }

  private static <Req, Resp> void bind(GrpcServer server, ServiceMethod<Req, Resp> method, BiFunction<Req, Caller, Future<Resp>> op) {
    server.callHandler(method, call -> call.handler(request -> op.apply(request, caller(call)).onComplete(ar -> {
      if (ar.succeeded()) {
        call.response().end(ar.result());
      } else {
        AdminError error = AdminError.of(ar.cause());
        call.response().status(error.status()).statusMessage(error.getMessage()).end();
      }
    })));
  }

  private static Caller caller(GrpcServerRequest<?, ?> call) {
    return new Caller(call.headers().get(AdminRpc.AUTHORIZATION), call.headers().contains(Caller.FORWARDED_HEADER));
  }
}
