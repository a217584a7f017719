package io.feedline.bench;

import io.feedline.common.id.NodeId;
import io.feedline.node.NodeRuntime;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench failover}: a node holding M maintainers and D dispatchers, or the coordinator's node,
 * is killed (its lease left to expire); measured apart: the detection (until the cluster sees the node gone,
 * or has a new coordinator) and the replacement (from then until every changefeed has one maintainer at its
 * persisted epoch on a live node and every span exactly one Working dispatcher again).
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

  @Option(names = "--kill", defaultValue = "MAINTAINERS",
      description = "Which node is killed: ${COMPLETION-CANDIDATES}: the non-coordinator node with the most maintainers, or the "
          + "coordinator's node (default ${DEFAULT-VALUE}).")
  Victim kill;

  @Mixin
  ClusterOptions options;

  @Mixin
  BenchRuns runs;

  /** Which node a run kills. */
  enum Victim {
    MAINTAINERS,
    COORDINATOR
  }

  @Override
  public Integer call() throws Exception {
    String setup = "nodes: 3, " + BenchCluster.describe(etcd, options.clustered) + ", changefeeds: " + changefeeds + " x " + tables
        + " tables, upstream: " + options.upstream.describe()
        + ", session ttl: " + sessionTtl.toSeconds() + " s, killed: " + (kill == Victim.COORDINATOR ? "the coordinator's node"
        : "the node with the most maintainers (not the coordinator's)") + "; detection: until "
        + (kill == Victim.COORDINATOR ? "a new coordinator is elected and bootstrapped" : "a survivor sees the node's session expire")
        + ", replacement: from then until every span has exactly one Working dispatcher and every maintainer runs where it should";
    return runs.measure("failover", setup, run -> {
      try (BenchCluster cluster = new BenchCluster(3, etcd, sessionTtl, options.clustered)) {
        cluster.awaitLeader(Duration.ofMinutes(1));
        long expected = cluster.createAllWorking(changefeeds, tables, options.upstream, Duration.ofMinutes(10));

        NodeRuntime leader = cluster.nodes().leader().orElseThrow();
        Map<NodeId, Long> perNode = cluster.maintainers().values().stream()
            .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        NodeRuntime victim = kill == Victim.COORDINATOR ? leader : cluster.nodes().live().stream().filter(n -> n != leader)
            .max((a, b) -> Long.compare(perNode.getOrDefault(a.nodeId(), 0L), perNode.getOrDefault(b.nodeId(), 0L)))
            .orElseThrow();
        long maintainers = perNode.getOrDefault(victim.nodeId(), 0L);
        long dispatchers = cluster.workingDispatchers() - cluster.workingDispatchersExcept(victim);
        NodeRuntime survivor = cluster.nodes().live().stream().filter(n -> n != victim).findFirst().orElseThrow();

        long start = System.nanoTime();
        cluster.nodes().crash(cluster.nodes().slotOf(victim), n -> { });
        if (kill == Victim.COORDINATOR) {
          BenchCluster.awaitTrue(Duration.ofMinutes(2), "a new coordinator", () -> cluster.nodes().leader().isPresent());
        } else {
          BenchCluster.awaitTrue(Duration.ofMinutes(2), "the killed node's session expired",
              () -> !survivor.membership().members().containsKey(victim.nodeId()));
        }
        long detected = System.nanoTime();
        cluster.awaitAllWorking(expected, Duration.ofMinutes(10));
        long recovered = System.nanoTime();
        cluster.checkExactlyOneWorkingPerSpan(expected, null);

        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("maintainers", (double) maintainers);
        figures.put("dispatchers", (double) dispatchers);
        figures.put("detection_s", (detected - start) / 1e9);
        figures.put("replacement_s", (recovered - detected) / 1e9);
        figures.put("recovery_s", (recovered - start) / 1e9);
        return figures;
      }
    });
  }
}
