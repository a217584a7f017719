package io.feedline.node;

import io.feedline.common.config.NodeConfig;
import io.feedline.node.config.ConfigException;
import io.feedline.node.config.ConfigLoader;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code feedline server}: runs one node until SIGTERM/SIGINT, then leaves the cluster cleanly. */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run a Feedline node.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped cleanly (SIGTERM/SIGINT)", "1:could not start", "2:invalid configuration",
        "3:the node lost its metastore session and left"})
public final class ServerCommand implements java.util.concurrent.Callable<Integer> {

  static final int EXIT_STOPPED = 0;
  static final int EXIT_START_FAILED = 1;
  static final int EXIT_BAD_CONFIG = 2;
  static final int EXIT_SESSION_LOST = 3;

  private static final Logger LOG = LoggerFactory.getLogger(ServerCommand.class);
  private static final long STOP_TIMEOUT_SECONDS = 30;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML config file (e.g. conf/node.yaml).")
  Path configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Local state directory (embedded metastore).")
  String dataDir;

  @Option(names = "--port", paramLabel = "PORT", description = "Admin API port (default 8300; 0 = any free port).")
  String port;

  @Option(names = "--host", paramLabel = "HOST", description = "Admin API bind address (default 127.0.0.1).")
  String host;

  @Option(names = "--etcd", paramLabel = "URL", split = ",", description = "etcd endpoint(s), e.g. http://127.0.0.1:2379. Default: the embedded store.")
  List<String> etcd;

  @Option(names = "--cluster", description = "Join the Hazelcast-clustered event bus (needs --etcd).")
  boolean cluster;

  @Option(names = "--cluster-id", paramLabel = "ID", description = "Metastore namespace of the cluster (default 'default').")
  String clusterId;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "Bearer token the admin API demands (default: none; or FEEDLINE_ADMIN_TOKEN, which keeps it out of ps).")
  String token;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate of the admin port; with --tls-key the port (API, health, metrics) speaks only TLS.")
  String tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert.")
  String tlsKey;

  @Option(names = "--tls-ca", paramLabel = "FILE",
      description = "PEM CA certificates trusted when forwarding to the coordinator's node (default: --tls-cert itself).")
  String tlsCa;

  @Override
  public Integer call() {
    NodeConfig config;
    try {
      config = ConfigLoader.load(configFile, System.getenv(), flags());
    } catch (ConfigException e) {
      System.err.println("feedline: " + e.getMessage());
      return EXIT_BAD_CONFIG;
    }

    NodeRuntime node;
    try {
      node = NodeRuntime.start(config).toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      System.err.println("feedline: could not start the node: " + cause);
      LOG.error("event=start_failed", cause);
      return EXIT_START_FAILED;
    }

    CompletableFuture<Integer> exit = new CompletableFuture<>();
    AtomicBoolean stopping = new AtomicBoolean();
    Runnable stop = () -> {
      if (stopping.compareAndSet(false, true)) {
        awaitStop(node);
      }
    };
    Signal.handle(new Signal("TERM"), s -> exit.complete(EXIT_STOPPED));
    Signal.handle(new Signal("INT"), s -> exit.complete(EXIT_STOPPED));
    // Fallback for other ways the JVM is asked to exit (e.g. System.exit elsewhere).
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "feedline-shutdown"));
    node.lost().onSuccess(reason -> exit.complete(EXIT_SESSION_LOST));

    int code = exit.join();
    stop.run();
    return code;
  }

  private static void awaitStop(NodeRuntime node) {
    try {
      node.stop().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("event=stop_incomplete error=\"{}\"", e.toString());
    }
  }

  private Map<String, String> flags() {
    Map<String, String> flags = new LinkedHashMap<>();
    if (dataDir != null) {
      flags.put("data-dir", dataDir);
    }
    if (port != null) {
      flags.put("port", port);
    }
    if (host != null) {
      flags.put("host", host);
    }
    if (etcd != null) {
      flags.put("etcd", String.join(",", etcd));
    }
    if (cluster) {
      flags.put("cluster", "true");
    }
    if (clusterId != null) {
      flags.put("cluster-id", clusterId);
    }
    if (token != null) {
      flags.put("admin.token", token);
    }
    if (tlsCert != null) {
      flags.put("admin.tls.cert-file", tlsCert);
    }
    if (tlsKey != null) {
      flags.put("admin.tls.key-file", tlsKey);
    }
    if (tlsCa != null) {
      flags.put("admin.tls.ca-file", tlsCa);
    }
    return flags;
  }
}
