package io.feedline.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchRunsTest {

  private static Map<String, Double> run(double seconds, double spans) {
    Map<String, Double> f = new LinkedHashMap<>();
    f.put("spans", spans);
    f.put("all_working_s", seconds);
    return f;
  }

  @Test
  void minMedianAndMaxOverTheRuns() {
    List<Map<String, Double>> runs = List.of(run(3.0, 10), run(1.0, 10), run(2.5, 10), run(9.0, 10));
    assertThat(BenchRuns.summary(runs, "all_working_s")).containsExactly(Map.entry("min", 1.0), Map.entry("median", 2.75), Map.entry("max", 9.0));
    assertThat(BenchRuns.summary(runs.subList(0, 3), "all_working_s")).containsEntry("median", 2.5);
  }

  @Test
  void theTableShowsTheMachineEveryRunAndTheSummary() {
    String table = BenchRuns.table("nodes: 3", List.of(run(3.0, 10), run(1.25, 10)));
    List<String> lines = table.lines().toList();
    assertThat(lines.get(0)).startsWith("machine: " + Runtime.getRuntime().availableProcessors() + " cores");
    assertThat(lines.get(1)).isEqualTo("nodes: 3");
    assertThat(lines.get(2)).contains("run", "spans", "all_working_s");
    assertThat(lines.get(4)).startsWith("2").contains("1.25");
    assertThat(lines.subList(5, 8)).extracting(l -> l.split(" ")[0]).containsExactly("min", "median", "max");
    assertThat(lines.get(6)).contains("2.13");
  }

  @Test
  void theJsonCarriesTheMachineTheRunsAndTheSummary() {
    JsonObject json = BenchRuns.json("scale", "nodes: 3", List.of(run(3.0, 10), run(1.0, 10)));
    assertThat(json.getString("bench")).isEqualTo("scale");
    assertThat(json.getJsonObject("machine").getInteger("cores")).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(json.getJsonArray("runs")).hasSize(2);
    assertThat(json.getJsonObject("summary").getJsonObject("all_working_s").getDouble("median")).isEqualTo(2.0);
  }

  /** A real, small scale run twice through the command line: the exact check passes and the JSON says so. */
  @Test
  void benchScaleRunsTwiceAndReportsJson() {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit = new CommandLine(new BenchCommand()).execute("scale", "--changefeeds", "2", "--tables", "20", "--runs", "2", "-o", "json");
    } finally {
      System.setOut(stdout);
    }
    assertThat(exit).isZero();
    String out = captured.toString(StandardCharsets.UTF_8);
    // The report is the pretty-printed object; a node's warning may share the stream.
    JsonObject json = new JsonObject(out.substring(out.indexOf("{\n"), out.lastIndexOf("\n}") + 2));
    assertThat(json.getJsonArray("runs")).hasSize(2);
    assertThat(json.getString("setup")).contains("exactly one Working dispatcher");
    assertThat(json.getJsonObject("summary").getJsonObject("spans").getDouble("min")).isGreaterThan(2);
  }

  @Test
  void aBadRunCountOrClusteredWithoutEtcdIsAUsageErrorThatRunsNothing() {
    Map<String, String> refusals = Map.of(
        "scale --runs 0", "--runs must be at least 1, got 0",
        "drain --clustered", "--clustered needs --etcd URL",
        "scale -o yaml", "Invalid value for option '--output'",
        "head-of-line --runs 0", "--runs must be at least 1, got 0",
        "fence --runs 0", "--runs must be at least 1, got 0",
        "throughput --sinks kafka", "Invalid value for option '--sinks'");
    refusals.forEach((args, why) -> {
      StringWriter err = new StringWriter();
      int exit = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err)).execute(args.split(" "));
      assertThat(exit).as(args).isEqualTo(2);
      assertThat(err.toString()).as(args).contains(why).doesNotContain("Exception");
    });
  }

  @Test
  void everyBenchmarkTakesRunsAndOutput() {
    CommandLine bench = new CommandLine(new BenchCommand());
    assertThat(bench.getSubcommands()).hasSizeGreaterThanOrEqualTo(9);
    bench.getSubcommands().forEach((name, command) -> {
      assertThat(command.getCommandSpec().findOption("--runs")).as(name + " --runs").isNotNull();
      assertThat(command.getCommandSpec().findOption("--output")).as(name + " --output").isNotNull();
      assertThat(command.getCommandSpec().findOption("-o")).as(name + " -o").isNotNull();
    });
  }
}
