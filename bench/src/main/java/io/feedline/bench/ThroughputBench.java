package io.feedline.bench;

import io.feedline.common.id.ChangefeedId;
import io.feedline.node.NodeRuntime;
import io.feedline.node.cluster.ClusterProbe;
import io.feedline.proto.ChangefeedInfo;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code feedline bench throughput}: how many change events per second one node replicates from an
 * unthrottled datagen upstream into each sink, measured from the sink's own acknowledgements
 * ({@code feedline_sink_events_total} and {@code feedline_sink_bytes_total}, the bytes as the memory quota
 * weighs events). Each run starts a fresh node and, for each sink in turn, creates a changefeed, lets it warm
 * up, counts over a window and removes it.
 */
@Command(name = "throughput", mixinStandardHelpOptions = true,
    description = "Events/s and MB/s of one node from unthrottled datagen into blackhole:// and file://.")
public final class ThroughputBench implements Callable<Integer> {

  @Option(names = "--sinks", split = ",", defaultValue = "blackhole,file",
      description = "Sinks to measure, of ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  List<SinkKind> sinks;

  /** The sinks measured, spelled as {@code --sinks} takes them. */
  enum SinkKind { blackhole, file }

  @Option(names = "--tables", defaultValue = "2000",
      description = "Datagen tables, one span each (default ${DEFAULT-VALUE}; with few, DDL barriers bound the rate).")
  int tables;

  @Mixin
  BenchRuns runs;

  @Option(names = "--warmup", defaultValue = "PT5S", description = "Time before each measured window (default ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--seconds", defaultValue = "10", description = "Length of each measured window (default ${DEFAULT-VALUE}).")
  int seconds;

  /** One measured window. */
  record Window(double eventsPerSecond, double megabytesPerSecond) {}

  @Override
  public Integer call() throws Exception {
    String setup = String.format(Locale.ROOT, "upstream: datagen://?tables=%d&rate=0 (unthrottled), 1 node on the embedded store, "
        + "warmup %ds, window %ds, per sink: %s", tables, warmup.toSeconds(), seconds, sinks);
    return runs.measure("throughput", setup, run -> {
      Map<String, Double> figures = new LinkedHashMap<>();
      try (BenchCluster cluster = new BenchCluster(1, null, Duration.ofSeconds(10))) {
        NodeRuntime node = cluster.awaitLeader(Duration.ofMinutes(1));
        Path files = Files.createTempDirectory("feedline-throughput");
        try {
          for (SinkKind sink : sinks) {
            Window w = measure(node, sink, run, files);
            figures.put(sink + "_events_per_s", w.eventsPerSecond());
            figures.put(sink + "_mb_per_s", w.megabytesPerSecond());
          }
        } finally {
          try (var walk = Files.walk(files)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
      }
      return figures;
    });
  }

  private static String sinkUri(SinkKind sink, Path files, String id) {
    return switch (sink) {
      case blackhole -> "blackhole://";
      case file -> "file://" + files.resolve(id);
    };
  }

  private Window measure(NodeRuntime node, SinkKind sink, int run, Path files) throws InterruptedException {
    String id = String.format(Locale.ROOT, "throughput-%s-%d", sink, run);
    String sinkUri = sinkUri(sink, files, id);
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
    return new Window(events / elapsed, bytes / elapsed / (1 << 20));
  }

  private static double total(MeterRegistry metrics, String changefeed, String name) {
    return metrics.find(name).tag("changefeed", changefeed).counters().stream().mapToDouble(Counter::count).sum();
  }
}
