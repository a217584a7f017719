package io.feedline.node.bench;

import io.feedline.common.id.ChangefeedId;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench throughput}: how many change events per second one node replicates from an
 * unthrottled datagen upstream into each sink, measured from the sink's own acknowledgements
 * ({@code feedline_sink_events_total} and {@code feedline_sink_bytes_total}, the bytes as the memory quota
 * weighs events). Each run creates a fresh changefeed, lets it warm up, counts over a window and removes
 * it; the table shows every run and the mean, also per core.
 */
@Command(name = "throughput", mixinStandardHelpOptions = true,
    description = "Events/s and MB/s of one node from unthrottled datagen into blackhole:// and file://.")
public final class ThroughputBench implements Callable<Integer> {

  @Option(names = "--sinks", split = ",", defaultValue = "blackhole,file",
      description = "Sinks to measure, of blackhole, file (default ${DEFAULT-VALUE}).")
  List<String> sinks;

  @Option(names = "--tables", defaultValue = "2000",
      description = "Datagen tables, one span each (default ${DEFAULT-VALUE}; with few, DDL barriers bound the rate).")
  int tables;

  @Option(names = "--runs", defaultValue = "3", description = "Runs per sink (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--warmup", defaultValue = "PT5S", description = "Time before each measured window (default ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--seconds", defaultValue = "10", description = "Length of each measured window (default ${DEFAULT-VALUE}).")
  int seconds;

  /** One measured window. */
  record Run(String sink, int run, double eventsPerSecond, double megabytesPerSecond) {}

  @Override
  public Integer call() throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    List<Run> results = new ArrayList<>();
    try (BenchCluster cluster = new BenchCluster(1, null, Duration.ofSeconds(10))) {
      NodeRuntime node = cluster.awaitLeader(Duration.ofMinutes(1));
      Path files = Files.createTempDirectory("feedline-throughput");
      try {
        for (String sink : sinks) {
          for (int run = 1; run <= runs; run++) {
            results.add(measure(node, sink, run, files));
          }
        }
      } finally {
        try (var walk = Files.walk(files)) {
          walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
    System.out.println(BenchCommand.machine());
    System.out.printf(Locale.ROOT, "upstream: datagen://?tables=%d&rate=0 (unthrottled), 1 node, warmup %ds, window %ds%n", tables,
        warmup.toSeconds(), seconds);
    System.out.printf(Locale.ROOT, "%-10s %5s %14s %10s %20s%n", "sink", "run", "events_per_s", "mb_per_s", "events_per_s_per_core");
    for (Run r : results) {
      System.out.printf(Locale.ROOT, "%-10s %5d %14.0f %10.1f %20.0f%n", r.sink(), r.run(), r.eventsPerSecond(), r.megabytesPerSecond(),
          r.eventsPerSecond() / cores);
    }
    for (String sink : sinks) {
      List<Run> of = results.stream().filter(r -> r.sink().equals(sink)).toList();
      double events = of.stream().mapToDouble(Run::eventsPerSecond).average().orElse(0);
      double mb = of.stream().mapToDouble(Run::megabytesPerSecond).average().orElse(0);
      double min = of.stream().mapToDouble(Run::eventsPerSecond).min().orElse(0);
      double max = of.stream().mapToDouble(Run::eventsPerSecond).max().orElse(0);
      System.out.printf(Locale.ROOT, "%-10s %5s %14.0f %10.1f %20.0f   (min %.0f, max %.0f events/s)%n", sink, "mean", events, mb,
          events / cores, min, max);
    }
    return 0;
  }

  private Run measure(NodeRuntime node, String sink, int run, Path files) throws InterruptedException {
    String id = String.format(Locale.ROOT, "throughput-%s-%d", sink, run);
    String sinkUri = switch (sink) {
      case "blackhole" -> "blackhole://";
      case "file" -> "file://" + files.resolve(id);
      default -> throw new IllegalArgumentException("unknown sink '" + sink + "' (blackhole, file)");
    };
    ChangefeedInfo info = ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=" + tables + "&seed=" + run + "&rate=0")
        .setSinkUri(sinkUri).build();
    ClusterProbe.onCoordinator(node, c -> c.create(info));
    MeterRegistry metrics = node.metrics();
    BenchCluster.awaitTrue(Duration.ofMinutes(1), id + " writing", () -> total(metrics, id, "feedline.sink.events") > 0);
    Thread.sleep(warmup.toMillis());
    double events0 = total(metrics, id, "feedline.sink.events");
    double bytes0 = total(metrics, id, "feedline.sink.bytes");
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    double elapsed = (System.nanoTime() - t0) / 1e9;
    double events = total(metrics, id, "feedline.sink.events") - events0;
    double bytes = total(metrics, id, "feedline.sink.bytes") - bytes0;
    ClusterProbe.onCoordinator(node, c -> c.remove(ChangefeedId.of(id)));
    BenchCluster.awaitTrue(Duration.ofMinutes(1), id + " removed", () -> metrics.find("feedline.sink.events").tag("changefeed", id).counter() == null);
    return new Run(sink, run, events / elapsed, bytes / elapsed / (1 << 20));
  }

  private static double total(MeterRegistry metrics, String changefeed, String name) {
    return metrics.find(name).tag("changefeed", changefeed).counters().stream().mapToDouble(Counter::count).sum();
  }
}
