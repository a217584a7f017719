package io.feedline.bench;

import io.feedline.coordinator.DrainReply;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench drain}: the time to drain a node holding about D dispatchers (and its share of the
 * maintainers) on 3 in-JVM nodes, polling the drain operation as the CLI does until nothing remains; at that
 * moment the target must hold no Working dispatcher and every span exactly one elsewhere.
 */
@Command(name = "drain", mixinStandardHelpOptions = true, description = "Time to drain a node of D dispatchers.")
public final class DrainBench implements Callable<Integer> {

  @Option(names = "--dispatchers", defaultValue = "10000", description = "Dispatchers on the drained node, about (default ${DEFAULT-VALUE}).")
  int dispatchers;

  @Option(names = "--changefeeds", defaultValue = "10", description = "Changefeeds the spans are spread over (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--etcd", paramLabel = "URL", description = "etcd endpoint (default: one embedded store in a temp dir).")
  String etcd;

  @Mixin
  ClusterOptions options;

  @Mixin
  BenchRuns runs;

  @Override
  public Integer call() throws Exception {
    options.requireStoreFor(etcd);
    // Spans spread evenly over 3 nodes: three times the target's share in all.
    int tables = Math.max(1, (int) Math.ceil(3.0 * dispatchers / changefeeds));
    String setup = "nodes: 3, changefeeds: " + changefeeds + " x " + tables + " tables, upstream: " + options.upstream.describe() + ", "
        + BenchCluster.describe(etcd, options.clustered) + "; checked when the drain says done: the target holds no Working dispatcher "
        + "and every span has exactly one Working dispatcher";
    return runs.measure("drain", setup, run -> {
      try (BenchCluster cluster = new BenchCluster(3, etcd, Duration.ofSeconds(10), options.clustered)) {
        long expected = cluster.createAllWorking(changefeeds, tables, options.upstream, Duration.ofMinutes(20));
        NodeRuntime leader = cluster.nodes().leader().orElseThrow();
        // Not the coordinator's node: draining that one first hands the leadership over, another figure.
        NodeRuntime target = cluster.nodes().live().stream().filter(n -> n != leader).findFirst().orElseThrow();
        long onTarget = cluster.workingDispatchers() - cluster.workingDispatchersExcept(target);

        long start = System.nanoTime();
        BenchCluster.awaitTrue(Duration.ofMinutes(30), "drain finished",
            () -> ClusterProbe.onCoordinator(leader, c -> c.drain(target.nodeId()).map(DrainReply::remaining)) == 0);
        double seconds = (System.nanoTime() - start) / 1e9;
        cluster.checkExactlyOneWorkingPerSpan(expected, target);
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("dispatchers_on_target", (double) onTarget);
        figures.put("drain_s", seconds);
        figures.put("moves_per_s", onTarget / seconds);
        return figures;
      }
    });
  }
}
