package io.feedline.dispatcher.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
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

  private final List<JsonObject> source = DatagenReplay.events(SPEC, FROM, UNTIL);

  private static JsonObject copy(JsonObject e) {
    return new JsonObject(e.encode());
  }

  /** What an at-least-once sink holds: suffixes replayed after restarts, out of ts order, and lines above the checkpoint. */
  private List<JsonObject> atLeastOnceSink(Random random) {
    List<JsonObject> sink = new ArrayList<>();
    sink.addAll(source.subList(0, source.size() / 2));
    sink.addAll(source.subList(source.size() / 3, source.size()));
    sink.addAll(source.subList(source.size() - 20, source.size()));
    sink.addAll(DatagenReplay.events(SPEC, UNTIL, TIMELINE.commitTs(9_400)));
    List<JsonObject> copies = new ArrayList<>(sink.stream().map(ConsistencyCheckTest::copy).toList());
    // Different tables' files are read one after the other: order across them means nothing.
    Collections.rotate(copies, random.nextInt(copies.size()));
    return copies;
  }

  @Test
  void aSinkHoldingTheSourceWithReplaysIsEqual() {
    assertThat(source).as(REPLAY).hasSizeGreaterThan(1_000);
    assertThat(source).anyMatch(ConsistencyCheck::isDdl);
    CheckReport report = ConsistencyCheck.compare(source, atLeastOnceSink(new Random(SEED)), FROM, UNTIL);
    assertThat(report.equal()).as(report.render() + REPLAY).isTrue();
    assertThat(report.render()).startsWith("equal: ");
    assertThat(report.rows()).isPositive();
    assertThat(report.ddls()).isPositive();
  }

  @Test
  void aLostLineIsAMissingChangeAndItsRowIsMissingOrWrong() {
    List<JsonObject> sink = new ArrayList<>(source.stream().map(ConsistencyCheckTest::copy).toList());
    // An insert nothing later in the window touches: the row itself goes missing.
    int at = lastUntouched(sink, "INSERT");
    JsonObject lost = sink.remove(at);

    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    assertThat(report.equal()).isFalse();
    CheckReport.TableDiff table = only(report);
    assertThat(table.table()).isEqualTo(lost.getLong("table"));
    assertThat(table.missingChanges()).containsExactly(lost);
    assertThat(table.extraChanges()).isEmpty();
    assertThat(table.missingRows()).singleElement().asString().startsWith("key=" + lost.getLong("key") + " ");
    assertThat(report.render()).contains("table " + lost.getLong("table") + ": 1 missing, 0 extra, 0 wrong rows; 1 missing, 0 extra changes")
        .contains("missing change " + lost.encode());
  }

  @Test
  void anExtraLineIsAnExtraRowAndChange() {
    List<JsonObject> sink = new ArrayList<>(source);
    JsonObject extra = new JsonObject().put("commitTs", UNTIL - 5).put("table", 2).put("op", "INSERT").put("key", 999_999)
        .put("after", new JsonObject().put("id", 999_999).put("v0", 1).put("v1", "x"));
    sink.add(extra);
    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    CheckReport.TableDiff table = only(report);
    assertThat(table.extraRows()).singleElement().asString().startsWith("key=999999 ");
    assertThat(table.extraChanges()).containsExactly(extra);
    assertThat(table.missingRows()).isEmpty();
    assertThat(report.render()).contains("extra row key=999999");
  }

  @Test
  void aChangedValueIsAWrongRow() {
    List<JsonObject> sink = new ArrayList<>(source.stream().map(ConsistencyCheckTest::copy).toList());
    int at = lastUntouched(sink, "UPDATE");
    JsonObject changed = sink.get(at);
    changed.getJsonObject("after").put("v1", "tampered");

    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    CheckReport.TableDiff table = only(report);
    assertThat(table.wrongRows()).singleElement().asString().contains("tampered").startsWith("key=" + changed.getLong("key") + " expected");
    assertThat(table.missingChanges()).hasSize(1);
    assertThat(table.extraChanges()).containsExactly(changed);
    assertThat(table.missingRows()).isEmpty();
    assertThat(table.extraRows()).isEmpty();
  }

  @Test
  void ddlsAreComparedAsDistinctEvents() {
    List<JsonObject> sink = new ArrayList<>(source);
    JsonObject ddl = source.stream().filter(e -> "TRUNCATE_TABLE".equals(e.getString("ddl"))).findFirst().orElseThrow();
    sink.add(copy(ddl)); // written again by a writer found WRITING after a failover: still equal
    assertThat(ConsistencyCheck.compare(source, sink, FROM, UNTIL).equal()).isTrue();

    sink.removeIf(e -> e.equals(ddl));
    CheckReport report = ConsistencyCheck.compare(source, sink, FROM, UNTIL);
    assertThat(report.missingDdls()).containsExactly(ddl);
    assertThat(report.extraDdls()).isEmpty();
    assertThat(report.render()).contains("DDLs: 1 missing, 0 extra").contains("missing DDL " + ddl.encode());
  }

  @Test
  void eventsOutsideTheWindowAreIgnoredOnBothSides() {
    List<JsonObject> sink = new ArrayList<>(source);
    sink.addAll(DatagenReplay.events(SPEC, TIMELINE.commitTs(1_000), FROM));
    sink.addAll(DatagenReplay.events(SPEC, UNTIL, TIMELINE.commitTs(9_100)));
    assertThat(ConsistencyCheck.compare(source, sink, FROM, UNTIL).equal()).isTrue();
    assertThat(ConsistencyCheck.compare(source, List.of(), UNTIL, UNTIL).equal()).as("an empty window").isTrue();
  }

  private static CheckReport.TableDiff only(CheckReport report) {
    assertThat(report.tables()).hasSize(1);
    return report.tables().get(0);
  }

  /** The last {@code op} whose row no later event of the window changes (no later change of the key, no truncate or drop). */
  private static int lastUntouched(List<JsonObject> events, String op) {
    for (int i = events.size() - 1; i >= 0; i--) {
      JsonObject e = events.get(i);
      if (!op.equals(e.getString("op"))) {
        continue;
      }
      long table = e.getLong("table");
      boolean touchedLater = events.subList(i + 1, events.size()).stream().anyMatch(later -> later.getLong("table") == table
          && (ConsistencyCheck.isDdl(later) ? !"ADD_COLUMN".equals(later.getString("ddl")) : later.getLong("key").equals(e.getLong("key"))));
      if (!touchedLater) {
        return i;
      }
    }
    throw new AssertionError("no untouched " + op + " in the window; " + REPLAY);
  }
}
