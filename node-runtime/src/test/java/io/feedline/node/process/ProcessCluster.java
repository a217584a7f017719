package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Clustered {@code server} processes on one etcd, as the process-level tests run them: each logs to
 * {@code work/node<i>.log} and keeps its data in {@code work/node<i>}. Closing stops every one (they also stop
 * when this JVM dies: see {@link ServerProcess}).
 */
final class ProcessCluster implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(90);
  private static final Duration SETTLE = Duration.ofSeconds(90);

  private final List<ServerProcess> servers = new ArrayList<>();
  private final Map<String, ServerProcess> byNode = new LinkedHashMap<>();
  private final List<ServerProcess.Started> live = new ArrayList<>();

  private ProcessCluster() {}

  /**
   * Starts {@code count} servers with {@code extraArgs} after the common ones, and returns once each serves and
   * the first lists them all. Each server binds an admin port of the kernel's choosing ({@code --port 0}) and the
   * test reads it from the started line: a port probed free here and bound seconds later by a starting JVM was
   * once taken in between (BindException in CI).
   */
  static ProcessCluster start(Path work, String etcd, int count, String... extraArgs) throws Exception {
    ProcessCluster cluster = new ProcessCluster();
    String clusterId = "c" + UUID.randomUUID().toString().substring(0, 8);
    try {
      for (int i = 0; i < count; i++) {
        List<String> args = new ArrayList<>(List.of("server", "--etcd", etcd, "--cluster", "--cluster-id", clusterId,
            "--port", "0", "--data-dir", work.resolve("node" + i).toString()));
        args.addAll(List.of(extraArgs));
        cluster.servers.add(ServerProcess.start(work.resolve("node" + i + ".log"), args.toArray(String[]::new)));
      }
      for (ServerProcess s : cluster.servers) {
        ServerProcess.Started started = s.awaitStarted(START);
        cluster.live.add(started);
        cluster.byNode.put(started.nodeId(), s);
      }
      cluster.live.get(0).cliUntil(SETTLE, r -> r.exit() == 0 && new JsonArray(r.out()).size() == count, "node", "list", "-o", "json");
      return cluster;
    } catch (Exception | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** Every server started, killed ones included, in start order. */
  List<ServerProcess> servers() {
    return servers;
  }

  /** The nodes not killed or removed, in start order; tests may remove the ones they take out otherwise. */
  List<ServerProcess.Started> live() {
    return live;
  }

  /** SIGKILL, as a crash: the node is no longer live. */
  void kill(String nodeId) throws InterruptedException {
    ServerProcess victim = byNode.get(nodeId);
    assertThat(victim).as("node %s is one of ours", nodeId).isNotNull();
    victim.kill();
    live.removeIf(n -> n.nodeId().equals(nodeId));
  }

  @Override
  public void close() throws InterruptedException {
    for (ServerProcess s : servers) {
      s.close();
    }
  }
}
