package io.feedline.dispatcher.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ConsistencyCheckTest {

  private static final long SEED = TestSeeds.seed(3);
  private static final String REPLAY = TestSeeds.replay(SEED, ConsistencyCheckTest.class);
  private static final TickTimeline TIMELINE = TickTimeline.forRate(1000);
  private static final DatagenSpec SPEC = new DatagenSpec(3, SEED, 1000, 0);
  /** A window in the middle of the history: rows inserted before it are updated and deleted inside it. */
  private static final long FROM = TIMELINE.commitTs(1_500) + 3;
  private static final long UNTIL = TIMELINE.commitTs(9_000);

  private final List<ChangeLine> source = DatagenReplay.events(SPEC, FROM, UNTIL);

  /** The line as a sink's reader gets it back: parsed from its text. */
  private static ChangeLine reread(ChangeLine e) {
    return ChangeLine.parse(e.line());
  }

  private List<ChangeLine> reread(List<ChangeLine> events) {
    return new ArrayList<>(events.stream().map(ConsistencyCheckTest::reread).toList());
  }

  /** What an at-least-once sink holds: suffixes replayed after restarts, out of ts order, and lines above the checkpoint. */
  private List<ChangeLine> atLeastOnceSink(Random random) {
    List<ChangeLine> sink = new ArrayList<>();
    sink.addAll(source.subList(0, source.size() / 2));
    sink.addAll(source.subList(source.size() / 3, source.size()));
    sink.addAll(source.subList(source.size() - 20, source.size()));
    sink.addAll(DatagenReplay.events(SPEC, UNTIL, TIMELINE.commitTs(9_400)));
    List<ChangeLine> copies = reread(sink);
    // Different tables' files are read one after the other: order across them means nothing.
    Collections.rotate(copies, random.nextInt(copies.size()));
    return copies;
  }

  @Test
  void aSinkHoldingTheSourceWithReplaysIsEqual() {
    assertThat(source).as(REPLAY).hasSizeGreaterThan(1_000);
    assertThat(source).anyMatch(ChangeLine::isDdl);
    CheckReport report = ConsistencyCheck.compare(source, atLeastOnceSink(new Random(SEED)), FROM, UNTIL);
    assertThat(report.equal()).as(report.render() + REPLAY).isTrue();
    assertThat(report.render()).startsWith("equal: ");
    assertThat(report.rows()).isPositive();
    assertThat(report.ddls()).isPositive();
  }

  @Test
  void aLostLineIsAMissingChangeAndItsRowIsMissing() {
    List<ChangeLine> sink = reread(source);
    // An insert nothing later in the window touches: the row itself goes missing.
    ChangeLine lost = sink.remove(lastUntouched(sink, "INSERT"));

    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    assertThat(report.equal()).isFalse();
    CheckReport.TableDiff table = only(report);
    assertThat(table.table()).isEqualTo(lost.table());
    assertThat(table.missingChanges()).containsExactly(lost.line());
    assertThat(table.extraChanges()).isEmpty();
    assertThat(table.missingRows()).singleElement().asString().startsWith("key=" + lost.key() + " ");
    assertThat(report.render()).contains("table " + lost.table() + ": 1 missing, 0 extra, 0 wrong rows; 1 missing, 0 extra changes")
        .contains("missing change " + lost.line());
  }

  @Test
  void anExtraLineIsAnExtraRowAndChange() {
    List<ChangeLine> sink = new ArrayList<>(source);
    ChangeLine extra = ChangeLine.parse(new JsonObject().put("commitTs", UNTIL - 5).put("table", 2).put("op", "INSERT").put("key", HexFormat.of().formatHex(DatagenModel.keyBytes(999_999).toByteArray()))
        .put("after", new JsonObject().put("id", 999_999).put("v0", 1).put("v1", "x")).encode());
    sink.add(extra);
    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    CheckReport.TableDiff table = only(report);
    assertThat(table.extraRows()).singleElement().asString().startsWith("key=00000000000f423f ");
    assertThat(table.extraChanges()).containsExactly(extra.line());
    assertThat(table.missingRows()).isEmpty();
    assertThat(report.render()).contains("extra row key=00000000000f423f");
  }

  @Test
  void aChangedValueIsAWrongRow() {
    List<ChangeLine> sink = reread(source);
    int at = lastUntouched(sink, "UPDATE");
    JsonObject json = new JsonObject(sink.get(at).line());
    json.getJsonObject("after").put("v1", "tampered");
    ChangeLine changed = ChangeLine.parse(json.encode());
    sink.set(at, changed);

    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    CheckReport.TableDiff table = only(report);
    assertThat(table.wrongRows()).singleElement().asString().contains("tampered").startsWith("key=" + changed.key() + " expected");
    assertThat(table.missingChanges()).hasSize(1);
    assertThat(table.extraChanges()).containsExactly(changed.line());
    assertThat(table.missingRows()).isEmpty();
    assertThat(table.extraRows()).isEmpty();
  }

  @Test
  void ddlsAreComparedAsDistinctEvents() {
    List<ChangeLine> sink = new ArrayList<>(source);
    ChangeLine ddl = source.stream().filter(e -> "TRUNCATE_TABLE".equals(e.ddl())).findFirst().orElseThrow();
    sink.add(reread(ddl)); // written again by a writer found WRITING after a failover: still equal
    assertThat(ConsistencyCheck.compare(source, sink, FROM, UNTIL).equal()).isTrue();

    sink.removeIf(e -> e.equals(ddl));
    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    assertThat(report.missingDdls()).containsExactly(ddl.line());
    assertThat(report.extraDdls()).isEmpty();
    assertThat(report.render()).contains("DDLs: 1 missing, 0 extra").contains("missing DDL " + ddl.line());
  }

  @Test
  void eventsOutsideTheWindowAreIgnoredOnBothSides() {
    List<ChangeLine> sink = new ArrayList<>(source);
    sink.addAll(DatagenReplay.events(SPEC, TIMELINE.commitTs(1_000), FROM));
    sink.addAll(DatagenReplay.events(SPEC, UNTIL, TIMELINE.commitTs(9_100)));
    assertThat(ConsistencyCheck.compare(source, sink, FROM, UNTIL).equal()).isTrue();
    assertThat(ConsistencyCheck.compare(source, List.of(), UNTIL, UNTIL).equal()).as("an empty window").isTrue();
  }

  @Test
  void aLineThatIsNoEventIsRefusedWithTheReason() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ChangeLine.parse("{\"commitTs\":1,\"table\":2}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("neither a DDL nor a row change");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ChangeLine.parse("{nope"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not JSON");
  }

  private static CheckReport.TableDiff only(CheckReport report) {
    assertThat(report.tables()).hasSize(1);
    return report.tables().get(0);
  }

  /** The last {@code op} whose row no later event of the window changes (no later change of the key, no truncate or drop). */
  private static int lastUntouched(List<ChangeLine> events, String op) {
    for (int i = events.size() - 1; i >= 0; i--) {
      ChangeLine e = events.get(i);
      if (!op.equals(e.op())) {
        continue;
      }
      boolean touchedLater = events.subList(i + 1, events.size()).stream().anyMatch(later -> later.table() == e.table()
          && (later.isDdl() ? !"ADD_COLUMN".equals(later.ddl()) : later.key() == e.key()));
      if (!touchedLater) {
        return i;
      }
    }
    throw new AssertionError("no untouched " + op + " in the window; " + REPLAY);
  }
}
