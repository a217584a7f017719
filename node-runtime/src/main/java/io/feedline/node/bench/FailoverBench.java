package io.feedline.node.bench;

import io.feedline.common.id.NodeId;
import io.feedline.node.NodeRuntime;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench failover}: a node holding M maintainers and D dispatchers is killed (its lease left
 * to expire); the time until every changefeed has one maintainer at its persisted epoch on a live node and
 * every span a Working dispatcher again, with the session TTL (the detection time) shown apart.
 */
@Command(name = "failover", mixinStandardHelpOptions = true,
    description = "From the kill of a node holding maintainers and dispatchers to all-Working again.")
public final class FailoverBench implements Callable<Integer> {

  @Option(names = "--etcd", paramLabel = "URL", required = true,
      description = "etcd endpoint: a killed node's session must expire, which needs etcd.")
  String etcd;

  @Option(names = "--changefeeds", defaultValue = "30", description = "Changefeeds (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--tables", defaultValue = "100", description = "Datagen tables per changefeed (default ${DEFAULT-VALUE}).")
  int tables;

  @Option(names = "--session-ttl", defaultValue = "PT5S", description = "Session TTL of the nodes (default ${DEFAULT-VALUE}).")
  Duration sessionTtl;

  @Option(names = "--upstream", defaultValue = "IDLE",
      description = "Datagen upstream while measuring: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  BenchCluster.Upstream upstream;

  @Override
  public Integer call() throws Exception {
    try (BenchCluster cluster = new BenchCluster(3, etcd, sessionTtl)) {
      cluster.awaitLeader(Duration.ofMinutes(1));
      long expected = cluster.createAllWorking(changefeeds, tables, upstream, Duration.ofMinutes(10));

      // The victim: the node with the most maintainers that is not the coordinator's (a coordinator
      // failover is another figure); its dispatchers are what it held at the kill.
      NodeRuntime leader = cluster.nodes().leader().orElseThrow();
      Map<NodeId, Long> perNode = cluster.maintainers().values().stream()
          .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
      NodeRuntime victim = cluster.nodes().live().stream().filter(n -> n != leader)
          .max((a, b) -> Long.compare(perNode.getOrDefault(a.nodeId(), 0L), perNode.getOrDefault(b.nodeId(), 0L)))
          .orElseThrow();
      long maintainers = perNode.getOrDefault(victim.nodeId(), 0L);
      long dispatchers = cluster.workingDispatchers() - cluster.workingDispatchersExcept(victim);

      long start = System.nanoTime();
      cluster.nodes().crash(cluster.nodes().slotOf(victim), n -> { });
      cluster.awaitAllWorking(expected, Duration.ofMinutes(10));
      double seconds = (System.nanoTime() - start) / 1e9;

      System.out.println(BenchCommand.machine());
      System.out.println("store: " + cluster.store() + ", nodes: 3, changefeeds: " + changefeeds + " x " + tables + " tables, upstream: " + upstream.describe());
      System.out.printf("%-12s %12s %14s %14s %22s%n", "maintainers", "dispatchers", "recovery_s", "session_ttl_s", "recovery_minus_ttl_s");
      System.out.printf("%-12d %12d %14.2f %14d %22.2f%n", maintainers, dispatchers, seconds, sessionTtl.toSeconds(),
          seconds - sessionTtl.toSeconds());
      return 0;
    }
  }
}
