package io.feedline.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code feedline check} in process: exit codes and what it prints, against a file sink written by the real sink. */
class CheckCommandTest {

  private static final int TABLES = 3;
  private static final long SEED = 11;
  private static final String SOURCE = "datagen://?tables=" + TABLES + "&seed=" + SEED + "&rate=1000";
  private static final TickTimeline TIMELINE = TickTimeline.forRate(1000);
  private static final long START = TIMELINE.commitTs(3_000);
  private static final long CHECKPOINT = TIMELINE.commitTs(9_000);

  @TempDir
  Path dir;
  private String out;
  private String err;

  @BeforeEach
  void writeTheSinkAsTheDispatchersWould() {
    DatagenFileSink.write(dir, new DatagenSpec(TABLES, SEED, 1000, 0), START, CHECKPOINT);
  }

  private int check(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(o));
    cli.setErr(new PrintWriter(e));
    List<String> all = new ArrayList<>(List.of("check"));
    all.addAll(List.of(args));
    int code = cli.execute(all.toArray(String[]::new));
    out = o.toString();
    err = e.toString();
    return code;
  }

  private String sinkUri() {
    return "file://" + dir.toAbsolutePath();
  }

  /** A row key as the file sink writes it: the source's key bytes in hex. */
  private static String hexKey(long id) {
    return HexFormat.of().formatHex(DatagenModel.keyBytes(id).toByteArray());
  }

  private Path tableFile(long table) {
    return FileSink.tableFile(dir, table, false);
  }

  @Test
  void equalContentExitsZeroAtTheCheckpointTheSinkRecords() {
    assertThat(check("--source", SOURCE, "--sink", sinkUri())).as(err).isZero();
    assertThat(out).startsWith("equal: ").contains("(" + START + ", " + CHECKPOINT + "]");
    assertThat(err).isEmpty();
  }

  @Test
  void aDeletedLineIsReportedMissingAndExitsOne() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(tableFile(2)));
    String removed = lines.remove(lines.size() / 2);
    Files.write(tableFile(2), lines);
    assertThat(check("--source", SOURCE, "--sink", sinkUri())).isEqualTo(1);
    assertThat(out).startsWith("DIFFERENT").contains("table 2: ").contains("missing change " + removed);
  }

  @Test
  void anExtraLineIsReportedAndExitsOne() throws IOException {
    String extra = "{\"commitTs\":" + (CHECKPOINT - 3) + ",\"table\":1,\"op\":\"INSERT\",\"key\":\"" + hexKey(777777)
        + "\",\"after\":{\"id\":777777}}";
    Files.writeString(tableFile(1), extra + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThat(check("--source", SOURCE, "--sink", sinkUri())).isEqualTo(1);
    assertThat(out).contains("table 1: 0 missing, 1 extra, 0 wrong rows").contains("extra row key=" + hexKey(777777));
  }

  @Test
  void aChangedValueIsReportedAndExitsOne() throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(tableFile(3)));
    int last = lines.size() - 1;
    while (!lines.get(last).contains("\"op\":\"INSERT\"")) {
      last--;
    }
    lines.set(last, lines.get(last).replaceFirst("\"v1\":\"s[0-9a-f]+\"", "\"v1\":\"changed\""));
    Files.write(tableFile(3), lines);
    assertThat(check("--source", SOURCE, "--sink", sinkUri())).isEqualTo(1);
    assertThat(out).contains("table 3: ").contains("changed");
  }

  @Test
  void duplicatedReplaysAndLinesAboveTheCheckpointAreNotDifferences() throws IOException {
    List<String> lines = Files.readAllLines(tableFile(1));
    Files.write(tableFile(1), lines.subList(lines.size() / 2, lines.size()), StandardOpenOption.APPEND);
    String above = "{\"commitTs\":" + (CHECKPOINT + 1) + ",\"table\":1,\"op\":\"INSERT\",\"key\":\"" + hexKey(5)
        + "\",\"after\":{\"id\":5}}";
    Files.writeString(tableFile(1), above + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThat(check("--source", SOURCE, "--sink", sinkUri())).as(out).isZero();
    assertThat(check("--source", SOURCE, "--sink", sinkUri(), "--until", String.valueOf(CHECKPOINT + 1))).as("the line counts once the window covers it").isEqualTo(1);
  }

  @Test
  void badInputExitsTwoWithOneLineReason() {
    assertThat(check("--source", SOURCE, "--sink", "blackhole://")).isEqualTo(2);
    assertThat(err.lines()).singleElement().asString().startsWith("feedline check: ").contains("file sinks only");
    assertThat(check("--source", "kafka://broker/topic", "--sink", sinkUri())).isEqualTo(2);
    assertThat(err.lines()).singleElement().asString().contains("datagen sources only");
    assertThat(check("--source", "datagen://?tables=x", "--sink", sinkUri())).isEqualTo(2);
    assertThat(err.lines()).singleElement().asString().contains("tables must be a whole number");
    assertThat(check("--source", SOURCE, "--sink", "file://" + dir.resolve("missing").toAbsolutePath())).isEqualTo(2);
    assertThat(err.lines()).singleElement().asString().contains("no file sink directory");
    assertThat(check("--source", SOURCE, "--sink", "file://user:secret@localhost" + dir.toAbsolutePath())).isEqualTo(2);
    assertThat(err).doesNotContain("secret");
    long now = 1_795_996_800_000L << 18;
    assertThat(check("--source", SOURCE, "--sink", sinkUri(), "--from", "0", "--until", String.valueOf(now)))
        .as("a window too large to replay").isEqualTo(2);
    assertThat(err.lines()).singleElement().asString().contains("too much");
  }
}
