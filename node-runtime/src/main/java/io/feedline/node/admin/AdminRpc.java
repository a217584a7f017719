package io.feedline.node.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Calls one admin gRPC method with headers (the generated client cannot set any, and the bearer token
 * travels in one). A non-OK answer fails as an {@link AdminError} carrying the server's status and
 * message; an unreachable server, or one that is not serving yet, as an undelivered UNAVAILABLE.
 */
public final class AdminRpc {

  public static final String AUTHORIZATION = "authorization";

  private final GrpcClient client;
  private final boolean tls;
  private final long timeoutMillis;

  /** A client of admin ports that speak as {@code tls} says. */
  public AdminRpc(Vertx vertx, AdminTransport.ClientTls tls, long timeoutMillis) {
    this.client = GrpcClient.client(vertx, AdminTransport.clientOptions(tls));
    this.tls = tls.tls();
    this.timeoutMillis = timeoutMillis;
  }

  public <Req, Resp> Future<Resp> call(SocketAddress server, ServiceMethod<Resp, Req> method, Req request, Map<String, String> headers) {
    return client.request(server, method)
        .recover(err -> Future.failedFuture(AdminError.undelivered("cannot reach " + server + ": " + describe(err))))
        .compose(req -> {
          headers.forEach((k, v) -> req.headers().set(k, v));
          req.timeout(timeoutMillis, TimeUnit.MILLISECONDS);
          return req.send(request).compose(resp -> resp.last().recover(err -> Future.failedFuture(
              resp.status() != null && resp.status() != GrpcStatus.OK
                  ? answered(resp.status(), resp.statusMessage())
                  : new AdminError(GrpcStatus.UNAVAILABLE, method.methodName() + " on " + server + " failed: " + describe(err)))));
        });
  }

  /** A server's non-OK answer; "starting" means it has not looked at the request. */
  private static AdminError answered(GrpcStatus status, String message) {
    if (status == GrpcStatus.UNAVAILABLE && AdminHttpServer.STARTING.equals(message)) {
      return AdminError.undelivered(message);
    }
    return new AdminError(status, message == null ? status.name() : message);
  }

  /**
   * The failure's message, with the likely cause when client and server disagree about TLS: a TLS port
   * drops a clear-text connection without a word, a clear-text port answers a TLS hello in clear text, and
   * an untrusted certificate hides behind a generic handshake failure.
   */
  private String describe(Throwable err) {
    Throwable root = err;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof io.netty.handler.ssl.NotSslRecordException) {
      return "TLS handshake failed: the server's admin port does not speak TLS (leave out --tls)";
    }
    if (root instanceof java.security.cert.CertPathBuilderException || root instanceof java.security.cert.CertificateException) {
      return "TLS handshake failed: the server's certificate is not trusted (" + root.getMessage()
          + "); give the CA or the server's certificate with --ca-cert FILE";
    }
    if (err instanceof javax.net.ssl.SSLException) {
      return "TLS handshake failed: " + root.getMessage();
    }
    if (!tls && "Connection was closed".equals(err.getMessage())) {
      return "the server closed the connection; if its admin port uses TLS, add --tls (and --ca-cert FILE)";
    }
    return err.getMessage();
  }

  /** Parses {@code host:port} (an admin address as registered, or a {@code --server} value). */
  public static SocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("admin address must be HOST:PORT, got '" + hostPort + "'");
    }
    String portText = hostPort.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("admin address port must be 1..65535, got '" + portText + "'");
    }
    return SocketAddress.inetSocketAddress(port, hostPort.substring(0, colon));
  }

  /** The {@code authorization} header for {@code token}; none when the token is empty. */
  public static Map<String, String> bearer(String token) {
    return token == null || token.isEmpty() ? Map.of() : Map.of(AUTHORIZATION, "Bearer " + token);
  }

  public Future<Void> close() {
    return client.close();
  }
}
