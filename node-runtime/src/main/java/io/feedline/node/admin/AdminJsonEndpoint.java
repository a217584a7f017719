package io.feedline.node.admin;

import io.feedline.proto.ChangefeedRef;
import io.feedline.proto.CreateChangefeedRequest;
import io.feedline.proto.DrainNodeRequest;
import io.feedline.proto.ListChangefeedsRequest;
import io.feedline.proto.ListNodesRequest;
import io.feedline.proto.ResignCoordinatorRequest;
import io.feedline.proto.ResumeChangefeedRequest;
import io.feedline.proto.UpdateChangefeedRequest;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin API as JSON over HTTP under {@code /api/v1}, for curl: each route decodes its request into
 * the gRPC request message and calls the same {@link AdminOperations} method the gRPC service does.
 *
 * <pre>
 * POST   /api/v1/changefeeds                 {"id","sourceUri","sinkUri","startTs"?,"targetTs"?}
 * GET    /api/v1/changefeeds                 array of changefeeds
 * GET    /api/v1/changefeeds/{id}
 * PATCH  /api/v1/changefeeds/{id}            {"sinkUri"?,"targetTs"?}
 * POST   /api/v1/changefeeds/{id}/pause
 * POST   /api/v1/changefeeds/{id}/resume     {"overwriteCheckpointTs"?}
 * DELETE /api/v1/changefeeds/{id}
 * GET    /api/v1/nodes
 * POST   /api/v1/nodes/{id}/drain
 * POST   /api/v1/coordinator/resign
 * </pre>
 *
 * Errors answer {@code {"error":{"code":"NOT_FOUND","message":"..."}}} with the matching HTTP status.
 */
final class AdminJsonEndpoint {

  static final String PREFIX = "/api/v1/";
  private static final Pattern CHANGEFEED = Pattern.compile("/api/v1/changefeeds/([^/]+)(?:/(pause|resume))?");
  private static final Pattern DRAIN = Pattern.compile("/api/v1/nodes/([^/]+)/drain");

  private final AdminOperations ops;

  AdminJsonEndpoint(AdminOperations ops) {
    this.ops = ops;
  }

  void handle(HttpServerRequest req) {
    Caller caller = new Caller(req.getHeader(AdminRpc.AUTHORIZATION), false);
    req.body()
        .compose(body -> {
          try {
            JsonObject json = body.length() == 0 ? new JsonObject() : body.toJsonObject();
            return route(req.method(), req.path(), json, caller);
          } catch (DecodeException | ClassCastException e) {
            return Future.failedFuture(new AdminError(GrpcStatus.INVALID_ARGUMENT, "request body is not a JSON object: " + e.getMessage()));
          }
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            reply(req, 200, ar.result());
          } else {
            AdminError e = AdminError.of(ar.cause());
            reply(req, e.httpStatus(), AdminJson.error(e));
          }
        });
  }

  private Future<Object> route(HttpMethod method, String path, JsonObject body, Caller caller) {
    if (path.equals("/api/v1/changefeeds")) {
      if (method == HttpMethod.GET) {
        return ops.listChangefeeds(ListChangefeedsRequest.getDefaultInstance(), caller).map(r -> AdminJson.changefeeds(r.getChangefeedsList()));
      }
      if (method == HttpMethod.POST) {
        CreateChangefeedRequest.Builder create = CreateChangefeedRequest.newBuilder()
            .setId(body.getString("id", ""))
            .setSourceUri(body.getString("sourceUri", ""))
            .setSinkUri(body.getString("sinkUri", ""))
            .setStartTs(position(body, "startTs"))
            .setTargetTs(position(body, "targetTs"));
        return view(ops.createChangefeed(create.build(), caller));
      }
    }
    Matcher m = CHANGEFEED.matcher(path);
    if (m.matches()) {
      ChangefeedRef ref = ChangefeedRef.newBuilder().setId(m.group(1)).build();
      String action = m.group(2);
      if (action == null && method == HttpMethod.GET) {
        return view(ops.queryChangefeed(ref, caller));
      }
      if (action == null && method == HttpMethod.DELETE) {
        return view(ops.removeChangefeed(ref, caller));
      }
      if (action == null && method == HttpMethod.PATCH) {
        return view(ops.updateChangefeed(UpdateChangefeedRequest.newBuilder().setId(ref.getId())
            .setSinkUri(body.getString("sinkUri", "")).setTargetTs(position(body, "targetTs")).build(), caller));
      }
      if ("pause".equals(action) && method == HttpMethod.POST) {
        return view(ops.pauseChangefeed(ref, caller));
      }
      if ("resume".equals(action) && method == HttpMethod.POST) {
        return view(ops.resumeChangefeed(ResumeChangefeedRequest.newBuilder().setId(ref.getId())
            .setOverwriteCheckpointTs(position(body, "overwriteCheckpointTs")).build(), caller));
      }
    }
    if (path.equals("/api/v1/nodes") && method == HttpMethod.GET) {
      return ops.listNodes(ListNodesRequest.getDefaultInstance(), caller).map(r -> AdminJson.nodes(r.getNodesList()));
    }
    Matcher drain = DRAIN.matcher(path);
    if (drain.matches() && method == HttpMethod.POST) {
      return ops.drainNode(DrainNodeRequest.newBuilder().setNodeId(drain.group(1)).build(), caller)
          .map(r -> new JsonObject().put("remaining", r.getRemaining()));
    }
    if (path.equals("/api/v1/coordinator/resign") && method == HttpMethod.POST) {
      return ops.resignCoordinator(ResignCoordinatorRequest.getDefaultInstance(), caller).map(r -> new JsonObject());
    }
    return Future.failedFuture(new AdminError(GrpcStatus.NOT_FOUND, "no such endpoint: " + method + " " + path));
  }

  /**
   * A 64-bit position or timestamp of a request: a JSON number, or a decimal string as the views write them
   * (a JavaScript client holds no 64-bit number exactly); absent is 0.
   */
  static long position(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return 0;
    }
    if (value instanceof Number n && !(value instanceof Double || value instanceof Float)) {
      return n.longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.parseUnsignedLong(s.strip());
      } catch (NumberFormatException e) {
        // answered below
      }
    }
    throw new AdminError(GrpcStatus.INVALID_ARGUMENT, field + " must be a whole number or a decimal string, got " + value);
  }

  private static Future<Object> view(Future<io.feedline.proto.ChangefeedView> view) {
    return view.map(AdminJson::changefeed);
  }

  private static void reply(HttpServerRequest req, int status, Object json) {
    req.response().setStatusCode(status).putHeader("content-type", "application/json").end(io.vertx.core.json.Json.encode(json));
  }
}
