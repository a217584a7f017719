package io.feedline.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --runs N} and {@code --output table|json} of a benchmark (a picocli mixin): it runs N times (each run
 * as the benchmark says: most start a fresh cluster) and prints every run's figures, then min / median / max
 * of each, under the machine they come from. A run that breaks the benchmark's exact check fails the
 * benchmark: its figures mean nothing.
 */
public final class BenchRuns {

  /** How a report is printed; spelled as the CLI's {@code --output}. */
  public enum Output { table, json }

  /** One run, numbered from 1: its figures, by name in the order they are printed. */
  @FunctionalInterface
  public interface Run {
    Map<String, Double> run(int number) throws Exception;
  }

  @Option(names = "--runs", defaultValue = "3", description = "Runs, each reported apart and summarized (default ${DEFAULT-VALUE}).")
  int runs;

  @Spec(Spec.Target.MIXEE)
  CommandSpec bench;

  @Option(names = {"-o", "--output"}, defaultValue = "table", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  Output output;

  /** Runs {@code run} {@link #count()} times and prints the report of {@code bench} set up as {@code setup}. */
  int measure(String bench, String setup, Run run) throws Exception {
    List<Map<String, Double>> figures = new ArrayList<>();
    for (int i = 1; i <= count(); i++) {
      figures.add(run.run(i));
      if (output == Output.table) {
        System.err.printf(Locale.ROOT, "%s: run %d of %d done%n", bench, i, runs);
      }
    }
    return report(bench, setup, figures);
  }

  /** How many runs were asked for; a usage error below 1. */
  int count() {
    if (runs < 1) {
      throw new ParameterException(this.bench.commandLine(), "--runs must be at least 1, got " + runs);
    }
    return runs;
  }

  /** Prints the report of runs a benchmark made itself (each run's figures, by name, in order). */
  int report(String bench, String setup, List<Map<String, Double>> figures) {
    System.out.println(output == Output.json ? json(bench, setup, figures).encodePrettily() : table(setup, figures));
    return 0;
  }

  static String table(String setup, List<Map<String, Double>> figures) {
    StringBuilder out = new StringBuilder(BenchCommand.machine()).append('\n').append(setup).append('\n');
    List<String> names = new ArrayList<>(figures.get(0).keySet());
    out.append(String.format(Locale.ROOT, "%-6s", "run"));
    names.forEach(n -> out.append(String.format(Locale.ROOT, " %22s", n)));
    out.append('\n');
    for (int i = 0; i < figures.size(); i++) {
      out.append(String.format(Locale.ROOT, "%-6d", i + 1));
      Map<String, Double> run = figures.get(i);
      names.forEach(n -> out.append(String.format(Locale.ROOT, " %22s", format(run.get(n)))));
      out.append('\n');
    }
    for (String stat : List.of("min", "median", "max")) {
      out.append(String.format(Locale.ROOT, "%-6s", stat));
      names.forEach(n -> out.append(String.format(Locale.ROOT, " %22s", format(summary(figures, n).get(stat)))));
      out.append('\n');
    }
    return out.toString().stripTrailing();
  }

  static JsonObject json(String bench, String setup, List<Map<String, Double>> figures) {
    Runtime rt = Runtime.getRuntime();
    JsonObject machine = new JsonObject().put("cores", rt.availableProcessors()).put("java", System.getProperty("java.version"))
        .put("maxHeapMiB", rt.maxMemory() >> 20);
    JsonArray runs = new JsonArray();
    figures.forEach(f -> runs.add(new JsonObject(new LinkedHashMap<>(f))));
    JsonObject summary = new JsonObject();
    figures.get(0).keySet().forEach(n -> summary.put(n, new JsonObject(new LinkedHashMap<>(summary(figures, n)))));
    return new JsonObject().put("bench", bench).put("machine", machine).put("setup", setup).put("runs", runs).put("summary", summary);
  }

  /** min, median (the middle run, or the mean of the middle two) and max of figure {@code name} over the runs. */
  static Map<String, Double> summary(List<Map<String, Double>> figures, String name) {
    double[] values = figures.stream().mapToDouble(f -> f.get(name)).sorted().toArray();
    int n = values.length;
    double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("min", values[0]);
    out.put("median", median);
    out.put("max", values[n - 1]);
    return out;
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : String.format(Locale.ROOT, "%.2f", value);
  }
}
