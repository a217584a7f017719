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
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code feedline server}: runs one node until SIGTERM/SIGINT, then leaves the cluster cleanly. A node that
 * loses its metastore session (DESIGN §8, self-fence) has stopped every write path at once; it then leaves
 * and joins again in this process, as a new node with a new session, as soon as the store answers: an
 * outage longer than the session's validity needs no supervisor and no operator.
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run a Feedline node.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped cleanly (SIGTERM/SIGINT)", "1:could not start (or could not leave after a lost session)",
        "2:invalid configuration"})
public final class ServerCommand implements java.util.concurrent.Callable<Integer> {

  static final int EXIT_STOPPED = 0;
  static final int EXIT_START_FAILED = 1;
  static final int EXIT_BAD_CONFIG = 2;

  private static final Logger LOG = LoggerFactory.getLogger(ServerCommand.class);
  private static final long STOP_TIMEOUT_SECONDS = 30;
  /** Waits between attempts to join again after a lost session: the store may still be away. */
  private static final long REJOIN_FIRST_BACKOFF_MS = 500;
  private static final long REJOIN_MAX_BACKOFF_MS = 10_000;

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

  @Option(names = "--memory-quota", paramLabel = "SIZE",
      description = "Bytes of change events the node holds between reading and the sink's acknowledgement, shared equally by its "
          + "changefeeds; sources pause at it (e.g. 512MiB; default: a quarter of the heap, at most 1GiB).")
  String memoryQuota;

  @Option(names = "--data-threads", paramLabel = "N", description = "Data lanes (threads reading sources and feeding sinks; default: one per core).")
  String dataThreads;

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
    AtomicReference<NodeRuntime> current = new AtomicReference<>(node);
    AtomicBoolean stopping = new AtomicBoolean();
    Runnable stop = () -> {
      if (stopping.compareAndSet(false, true)) {
        awaitStop(current.get());
      }
    };
    Signal.handle(new Signal("TERM"), s -> exit.complete(EXIT_STOPPED));
    Signal.handle(new Signal("INT"), s -> exit.complete(EXIT_STOPPED));
    // Fallback for other ways the JVM is asked to exit (e.g. System.exit elsewhere).
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "feedline-shutdown"));

    while (true) {
      NodeRuntime running = current.get();
      CompletableFuture<String> lost = running.lost().toCompletionStage().toCompletableFuture();
      CompletableFuture.anyOf(exit, lost).join();
      if (exit.isDone()) {
        break;
      }
      // Its write paths are already fenced (every role heard of the loss); leave, then join as a new node.
      LOG.warn("event=node_rejoining node={} reason=\"{}\"", running.nodeId(), lost.join());
      if (!awaitStop(running)) {
        // Its Vert.x, Hazelcast member, store client or admin port may still be alive: a second node in this
        // process would collide with them. A supervisor starting a fresh process is the safe way back.
        System.err.println("feedline: the node lost its metastore session and did not finish leaving; exiting");
        exit.complete(EXIT_START_FAILED);
        break;
      }
      NodeRuntime rejoined = rejoin(config, exit);
      if (rejoined == null) {
        break;
      }
      current.set(rejoined);
      if (exit.isDone()) {
        break;
      }
    }
    int code = exit.join();
    stop.run();
    return code;
  }

  /**
   * Starts the node again until it succeeds, backing off while the metastore is away; null once the
   * process is asked to stop instead.
   */
  private static NodeRuntime rejoin(NodeConfig config, CompletableFuture<Integer> exit) {
    long backoff = REJOIN_FIRST_BACKOFF_MS;
    for (int attempt = 1; !exit.isDone(); attempt++) {
      try {
        NodeRuntime node = NodeRuntime.start(config).toCompletionStage().toCompletableFuture().get();
        LOG.info("event=node_rejoined node={} attempts={}", node.nodeId(), attempt);
        return node;
      } catch (Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
        LOG.warn("event=rejoin_failed attempt={} retry_in_ms={} error=\"{}\"", attempt, backoff, String.valueOf(cause));
      }
      try {
        exit.get(backoff, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException timeout) {
        backoff = Math.min(REJOIN_MAX_BACKOFF_MS, backoff * 2);
      } catch (Exception e) {
        return null;
      }
    }
    return null;
  }

  /** Stops the node; false when that did not finish in time. */
  private static boolean awaitStop(NodeRuntime node) {
    try {
      node.stop().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      LOG.warn("event=stop_incomplete error=\"{}\"", e.toString());
      return false;
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
    if (memoryQuota != null) {
      flags.put("dataplane.memory-quota", memoryQuota);
    }
    if (dataThreads != null) {
      flags.put("dataplane.threads", dataThreads);
    }
    return flags;
  }
}
