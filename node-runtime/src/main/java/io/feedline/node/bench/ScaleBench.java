package io.feedline.node.bench;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench scale}: how long it takes, and how much heap, to bring C changefeeds × T tables to
 * every span's dispatcher Working on 3 in-JVM nodes, and the dispatcher creations per second that makes.
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

  @Option(names = "--upstream", defaultValue = "IDLE",
      description = "Datagen upstream while measuring: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  BenchCluster.Upstream upstream;

  @Override
  public Integer call() throws Exception {
    try (BenchCluster cluster = new BenchCluster(nodes, etcd, Duration.ofSeconds(10))) {
      cluster.awaitLeader(Duration.ofMinutes(1));
      long heapBefore = BenchCluster.heapAfterGcMiB();
      long start = System.nanoTime();
      long expected = cluster.createAllWorking(changefeeds, tables, upstream, timeout);
      double seconds = (System.nanoTime() - start) / 1e9;
      long heapAfter = BenchCluster.heapAfterGcMiB();
      System.out.println(BenchCommand.machine());
      System.out.println("store: " + cluster.store() + ", nodes: " + nodes + ", upstream: " + upstream.describe());
      System.out.printf("%-12s %8s %10s %16s %20s %14s %14s%n", "changefeeds", "tables", "spans", "all_working_s",
          "dispatchers_per_s", "heap_before_mb", "heap_after_mb");
      System.out.printf("%-12d %8d %10d %16.2f %20.0f %14d %14d%n", changefeeds, tables, expected, seconds, expected / seconds,
          heapBefore, heapAfter);
      return 0;
    }
  }
}
