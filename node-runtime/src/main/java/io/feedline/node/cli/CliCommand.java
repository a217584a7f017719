package io.feedline.node.cli;

import io.feedline.node.admin.AdminError;
import io.feedline.node.admin.AdminRpc;
import io.feedline.node.admin.AdminTransport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.ServiceMethod;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code feedline cli}: the admin API over gRPC. Prints a table (or JSON with {@code --output json}) on
 * stdout and exits 0; on a refusal or failure prints one line on stderr and exits 1.
 */
@Command(name = "cli", mixinStandardHelpOptions = true, description = "Administer a Feedline cluster through any node's admin port.",
    subcommands = {ChangefeedCommand.class, NodeCommand.class, CoordinatorCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:the server refused or failed the request, or could not be reached", "2:invalid usage"})
public final class CliCommand implements Runnable {

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  private static final long CALL_TIMEOUT_SECONDS = 30;

  enum Output { table, json }

  @Spec
  CommandSpec spec;

  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8300", scope = ScopeType.INHERIT,
      description = "Admin address of any node (default ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:FEEDLINE_ADMIN_TOKEN}", scope = ScopeType.INHERIT,
      description = "Bearer token of the admin API (default: $FEEDLINE_ADMIN_TOKEN).")
  String token;

  @Option(names = "--tls", scope = ScopeType.INHERIT,
      description = "Connect with TLS (the server runs with --tls-cert/--tls-key); trusts the JVM's CAs unless --ca-cert is given.")
  boolean tls;

  @Option(names = "--ca-cert", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "PEM certificate(s) the server's certificate must chain to, e.g. the server's self-signed one (implies --tls).")
  Path caCert;

  @Option(names = "--insecure-skip-verify", scope = ScopeType.INHERIT,
      description = "Accept any server certificate and host name (implies --tls). Development only: anyone in the middle reads the token.")
  boolean insecureSkipVerify;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table", scope = ScopeType.INHERIT,
      description = "table or json (default ${DEFAULT-VALUE}).")
  Output output;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  private AdminTransport.ClientTls clientTls(CommandSpec command) {
    if (caCert != null && insecureSkipVerify) {
      throw new ParameterException(command.commandLine(), "--ca-cert and --insecure-skip-verify exclude each other");
    }
    if (caCert != null && !Files.isReadable(caCert)) {
      throw new ParameterException(command.commandLine(), "--ca-cert: cannot read " + caCert);
    }
    return tls || caCert != null || insecureSkipVerify ? new AdminTransport.ClientTls(true, caCert, insecureSkipVerify) : AdminTransport.ClientTls.PLAIN;
  }

  /**
   * Calls {@code method} on the server and prints the answer as {@code table} or {@code json}
   * (a JSON value's {@code toString()} is its encoding).
   */
  <Req, Resp> int call(CommandSpec command, ServiceMethod<Resp, Req> method, Req request,
      Function<Resp, String> table, Function<Resp, Object> json) {
    PrintWriter out = command.commandLine().getOut();
    try (Session session = session(command)) {
      Resp response = session.call(method, request);
      out.println(output == Output.json ? json.apply(response).toString() : table.apply(response));
      out.flush();
      return EXIT_OK;
    } catch (AdminError e) {
      return failed(command, e);
    }
  }

  /** Prints the one-line reason of a refusal or failure on stderr; the exit code. */
  int failed(CommandSpec command, AdminError error) {
    PrintWriter err = command.commandLine().getErr();
    err.println("feedline: " + error.status().name() + ": " + error.getMessage());
    err.flush();
    return EXIT_FAILED;
  }

  /** A connection to {@code --server} for one or more calls. */
  Session session(CommandSpec command) {
    SocketAddress address;
    try {
      address = AdminRpc.address(server);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), "--server: " + e.getMessage());
    }
    return new Session(address, clientTls(command));
  }

  /** Calls over one Vert.x instance, each answered or failed as an {@link AdminError}. */
  final class Session implements AutoCloseable {

    private final SocketAddress address;
    // One-shot calls: an event loop slowed by a busy machine (class loading, TLS set-up) is no news, and the
    // checker's warning would break the promise of one line on stderr.
    private final Vertx vertx = Vertx.vertx(new VertxOptions()
        .setMaxEventLoopExecuteTime(CALL_TIMEOUT_SECONDS).setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS)
        .setWarningExceptionTime(CALL_TIMEOUT_SECONDS).setWarningExceptionTimeUnit(TimeUnit.SECONDS));
    private final AdminRpc rpc;

    private Session(SocketAddress address, AdminTransport.ClientTls clientTls) {
      this.address = address;
      this.rpc = new AdminRpc(vertx, clientTls, TimeUnit.SECONDS.toMillis(CALL_TIMEOUT_SECONDS));
    }

    <Req, Resp> Resp call(ServiceMethod<Resp, Req> method, Req request) {
      try {
        Future<Resp> answer = rpc.call(address, method, request, AdminRpc.bearer(token));
        return answer.toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw AdminError.of(e.getCause());
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AdminError(io.vertx.grpc.common.GrpcStatus.UNAVAILABLE, "no answer from " + server + " within " + (CALL_TIMEOUT_SECONDS + 5) + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AdminError(io.vertx.grpc.common.GrpcStatus.CANCELLED, "interrupted");
      }
    }

    @Override
    public void close() {
      vertx.close();
    }
  }
}
