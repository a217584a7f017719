package io.feedline.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench scale}: how long it takes, and how much heap, to bring C changefeeds × T tables to
 * every span's dispatcher Working on 3 in-JVM nodes, and the dispatcher creations per second that makes;
 * then checks span by span that each has exactly one Working dispatcher.
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
    description = "Time and heap to bring C changefeeds x T tables to all-Working on 3 in-JVM nodes.")
public final class ScaleBench implements Callable<Integer> {

  @Option(names = "--changefeeds", defaultValue = "10", description = "Changefeeds (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--tables", defaultValue = "1000", description = "Datagen tables per changefeed, one span each (default ${DEFAULT-VALUE}).")
  int tables;

  @Option(names = "--nodes", defaultValue = "3", description = "Nodes (default ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--etcd", paramLabel = "URL", description = "etcd endpoint (default: one embedded store in a temp dir).")
  String etcd;

  @Option(names = "--timeout", defaultValue = "PT20M", description = "Give up after this long (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Mixin
  ClusterOptions options;

  @Mixin
  BenchRuns runs;

  @Override
  public Integer call() throws Exception {
    options.requireStoreFor(etcd);
    String setup = "nodes: " + nodes + ", changefeeds: " + changefeeds + " x " + tables + " tables, upstream: " + options.upstream.describe()
        + ", " + BenchCluster.describe(etcd, options.clustered) + "; checked: every span has exactly one Working dispatcher";
    return runs.measure("scale", setup, run -> {
      try (BenchCluster cluster = new BenchCluster(nodes, etcd, Duration.ofSeconds(10), options.clustered)) {
        cluster.awaitLeader(Duration.ofMinutes(1));
        long heapBefore = BenchCluster.heapAfterGcMiB();
        long start = System.nanoTime();
        long expected = cluster.createAllWorking(changefeeds, tables, options.upstream, timeout);
        double seconds = (System.nanoTime() - start) / 1e9;
        long heapAfter = BenchCluster.heapAfterGcMiB();
        cluster.checkExactlyOneWorkingPerSpan(expected, null);
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("spans", (double) expected);
        figures.put("all_working_s", seconds);
        figures.put("dispatchers_per_s", expected / seconds);
        figures.put("heap_before_mb", (double) heapBefore);
        figures.put("heap_after_mb", (double) heapAfter);
        return figures;
      }
    });
  }
}
