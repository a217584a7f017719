package io.feedline.node.admin;

import io.feedline.common.config.AdminTls;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.Reachability;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeState;
import io.feedline.proto.NodeLiveness;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The node's admin port. Serves {@code GET /health} (this node, its state, the cluster members it sees,
 * whether it reaches its metastore), {@code GET /ready} (200 only while the node is ready: a readiness
 * probe), {@code GET /metrics} (Prometheus text), and once the roles run ({@link #serveApi}) the admin API: gRPC
 * (requests with a gRPC content type) and the same operations as JSON under {@code /api/v1/}. Health and
 * metrics stay open; the API checks the bearer token.
 */
public final class AdminHttpServer {

  private final Vertx vertx;
  private final NodeId nodeId;
  private final ClusterMembership membership;
  private final PrometheusMeterRegistry registry;
  private final Supplier<Optional<Reachability.Outage>> metastoreOutage;
  private final Supplier<NodeLiveness> liveness;
  private HttpServer server;
  private volatile GrpcServer grpc;
  private volatile AdminJsonEndpoint json;

  /**
   * @param metastoreOutage since when this node has not reached its metastore (empty while it does)
   * @param liveness this node's liveness (draining, stopping...), for its state
   */
  public AdminHttpServer(Vertx vertx, NodeId nodeId, ClusterMembership membership, PrometheusMeterRegistry registry,
      Supplier<Optional<Reachability.Outage>> metastoreOutage, Supplier<NodeLiveness> liveness) {
    this.vertx = vertx;
    this.liveness = liveness;
    this.nodeId = nodeId;
    this.membership = membership;
    this.registry = registry;
    this.metastoreOutage = metastoreOutage;
  }

  /** Listens on {@code host:port} (0 = any free port), with TLS when {@code tls} is on. Returns the bound port. */
  public Future<Integer> listen(String host, int port, AdminTls tls) {
    server = vertx.createHttpServer(AdminTransport.serverOptions(tls)).requestHandler(this::handle);
    return server.listen(port, host).map(HttpServer::actualPort);
  }

  /** What the admin API answers (UNAVAILABLE) before the node serves it. */
  public static final String STARTING = "node is starting; retry";

  /** Starts answering the admin API; until then it answers UNAVAILABLE (the node is starting). */
  public void serveApi(AdminOperations ops) {
    json = new AdminJsonEndpoint(ops);
    grpc = AdminGrpcEndpoint.server(vertx, ops);
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    String contentType = req.getHeader("content-type");
    if (contentType != null && contentType.startsWith("application/grpc")) {
      GrpcServer api = grpc;
      if (api != null) {
        api.handle(req);
      } else {
        // The gRPC status travels in headers: a trailers-only answer the client reads as UNAVAILABLE.
        req.response().putHeader("content-type", "application/grpc").putHeader("grpc-status", String.valueOf(GrpcStatus.UNAVAILABLE.code))
            .putHeader("grpc-message", STARTING).end();
      }
      return;
    }
    if (path.startsWith(AdminJsonEndpoint.PREFIX)) {
      AdminJsonEndpoint api = json;
      if (api != null) {
        api.handle(req);
      } else {
        reply(req, 503, "application/json", AdminJson.error(AdminError.undelivered(STARTING)).encode());
      }
      return;
    }
    if (req.method().name().equals("GET") && path.equals("/health")) {
      JsonArray members = new JsonArray();
      membership.members().keySet().stream().sorted().forEach(n -> members.add(n.value()));
      JsonObject metastore = new JsonObject().put("reachable", true);
      // Still "ok": the node rides through an outage as long as its session is certainly valid, then rejoins.
      metastoreOutage.get().ifPresent(o -> metastore.put("reachable", false).put("unreachableSince", o.since().toString())
          .put("lastError", o.lastError()));
      reply(req, 200, "application/json", new JsonObject().put("status", "ok").put("nodeId", nodeId.value()).put("state", state().label())
          .put("members", members).put("metastore", metastore).encode());
    } else if (req.method().name().equals("GET") && path.equals("/ready")) {
      NodeState state = state();
      reply(req, state == NodeState.READY ? 200 : 503, "application/json", new JsonObject().put("state", state.label()).encode());
    } else if (req.method().name().equals("GET") && path.equals("/metrics")) {
      reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
    } else {
      reply(req, 404, "application/json", new JsonObject().put("error", "no such endpoint: " + req.method() + " " + path).encode());
    }
  }

  /** Starting until the admin API is served, then as the node's liveness says. */
  public NodeState state() {
    return NodeState.of(json != null, liveness.get());
  }

  private static void reply(HttpServerRequest req, int status, String contentType, String body) {
    req.response().setStatusCode(status).putHeader("content-type", contentType).end(body);
  }
}
