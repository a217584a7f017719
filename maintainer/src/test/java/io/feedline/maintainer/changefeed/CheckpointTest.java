package io.feedline.maintainer.changefeed;

import static io.feedline.maintainer.changefeed.MaintainerHarness.A;
import static io.feedline.maintainer.changefeed.MaintainerHarness.B;
import static io.feedline.maintainer.changefeed.MaintainerHarness.EPOCH;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.SpanHold;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class CheckpointTest {

  private static MaintainerHarness running(int tables) {
    MaintainerHarness h = MaintainerHarness.threeNodes(100);
    LongStream.rangeClosed(1, tables).forEach(h.side.tables::add);
    h.settle();
    return h;
  }

  private static void setCheckpoint(MaintainerHarness h, TableSpan span, long ts) {
    h.side.nodes.values().forEach(n -> n.dispatchers.values().stream().filter(d -> d.span.equals(span)).forEach(d -> d.checkpointTs = ts));
  }

  @Test
  void isTheMinimumOverSpansAndTheTriggerAndReportedInTheStatus() {
    MaintainerHarness h = running(3);
    setCheckpoint(h, TableSpans.wholeTable(1), 400);
    setCheckpoint(h, TableSpans.wholeTable(2), 350);
    setCheckpoint(h, TableSpans.wholeTable(3), 500);
    setCheckpoint(h, TableSpan.getDefaultInstance(), 450);
    h.round();
    h.round();
    assertThat(h.maintainer.status().getCheckpointTs()).isEqualTo(350);
    assertThat(h.maintainer.status().getEpoch()).isEqualTo(EPOCH);
  }

  @Test
  void theStatusNamesTheSpansHoldingItBackAndWhereTheSourceHasGot() {
    MaintainerHarness h = running(3);
    setCheckpoint(h, TableSpans.wholeTable(1), 400);
    setCheckpoint(h, TableSpans.wholeTable(2), 350);
    setCheckpoint(h, TableSpans.wholeTable(3), 500);
    h.side.nodes.values().forEach(n -> n.dispatchers.values().stream().filter(d -> d.span.equals(TableSpans.wholeTable(2)))
        .forEach(d -> {
          d.hold = SpanHold.SPAN_HOLD_SINK;
          d.holdDetail = "a write has waited for the sink since 2026-12-06T21:00:00Z";
        }));
    h.side.nodes.values().forEach(n -> n.resolvedTs = 600);
    h.side.nodes.get(B).resolvedTs = 550;
    for (int i = 0; i < ChangefeedMaintainer.BLOCKERS_REFRESH_MILLIS / MaintainerHarness.TICK + 1; i++) {
      h.round();
    }
    MaintainerStatus status = h.maintainer.status();
    assertThat(status.getBlockersList()).extracting(b -> b.getSpan().getTableId()).containsExactly(2L, 1L, 3L);
    assertThat(status.getBlockers(0).getReason()).isEqualTo("sink-error");
    assertThat(status.getBlockers(0).getDetail()).isEqualTo("a write has waited for the sink since 2026-12-06T21:00:00Z");
    assertThat(status.getBlockers(0).getCheckpointTs()).isEqualTo(350);
    assertThat(status.getBlockers(1).getReason()).isEqualTo("source-behind");
    assertThat(status.getResolvedTs()).as("the lowest node's watermark").isEqualTo(550);
  }

  @Test
  void aSpanWhoseDispatcherFailedInItsSinkIsNamedWithTheSinksWordsUntilItWritesPastThatPoint() {
    MaintainerHarness h = running(2);
    setCheckpoint(h, TableSpans.wholeTable(1), 300);
    setCheckpoint(h, TableSpans.wholeTable(2), 400);
    h.round();
    NodeId at = h.side.nodes.entrySet().stream().filter(e -> e.getValue().dispatchers.values().stream()
        .anyMatch(d -> d.span.equals(TableSpans.wholeTable(1)))).findFirst().orElseThrow().getKey();
    var failed = h.side.nodes.get(at).dispatchers.values().stream().filter(d -> d.span.equals(TableSpans.wholeTable(1))).findFirst()
        .orElseThrow();
    h.side.fail(at, failed.id, SpanHold.SPAN_HOLD_SINK, "connection to 127.0.0.1:5432 refused");
    for (int i = 0; i < ChangefeedMaintainer.BLOCKERS_REFRESH_MILLIS / MaintainerHarness.TICK + 1; i++) {
      h.round();
      h.side.startAll(); // the span is placed again: a new dispatcher, working, not past where the old one failed
    }
    assertThat(h.maintainer.status().getBlockers(0)).satisfies(b -> {
      assertThat(b.getSpan()).isEqualTo(TableSpans.wholeTable(1));
      assertThat(b.getReason()).isEqualTo("sink-error");
      assertThat(b.getDetail()).isEqualTo("connection to 127.0.0.1:5432 refused");
    });

    setCheckpoint(h, TableSpans.wholeTable(1), 500);
    for (int i = 0; i < ChangefeedMaintainer.BLOCKERS_REFRESH_MILLIS / MaintainerHarness.TICK + 1; i++) {
      h.round();
    }
    assertThat(h.maintainer.status().getBlockersList()).extracting(CheckpointBlocker::getReason).doesNotContain("sink-error");
  }

  @Test
  void anInFlightMoveHoldsItAtTheSpansCheckpoint() {
    MaintainerHarness h = running(2);
    h.side.advanceAll(300);
    h.round();
    h.round();
    TableSpan t1 = TableSpans.wholeTable(1);
    NodeId from = h.maintainer.spans().get(t1).node();
    NodeId to = h.live.stream().filter(n -> !n.equals(from)).findFirst().orElseThrow();
    assertThat(h.maintainer.move(t1, to)).isTrue();
    h.side.answerSchedules = false;
    setCheckpoint(h, TableSpans.wholeTable(2), 900);
    setCheckpoint(h, TableSpan.getDefaultInstance(), 900);
    h.round();
    h.round();
    assertThat(h.maintainer.status().getCheckpointTs()).isEqualTo(300);
  }

  @Test
  void neverRegressesAcrossAFailoverWhoseSpansRestartFromOlderCheckpoints() {
    MaintainerHarness h = running(6);
    h.side.advanceAll(300);
    h.round();
    h.round();
    long persisted = h.maintainer.status().getCheckpointTs();
    assertThat(persisted).isEqualTo(300);
    h.side.advanceAll(400); // progress the old maintainer never reported
    h.crash(A);
    h.failover(B, EPOCH + 1, persisted);
    List<Long> reported = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      h.round();
      h.side.startAll();
      reported.add(h.maintainer.status().getCheckpointTs());
    }
    h.side.advanceAll(600);
    for (int i = 0; i < 5; i++) {
      h.round();
      reported.add(h.maintainer.status().getCheckpointTs());
    }
    assertThat(reported).isSorted().allMatch(ts -> ts >= persisted);
    assertThat(reported.get(reported.size() - 1)).isEqualTo(600);
    for (long t = 1; t <= 6; t++) {
      assertThat(h.side.liveFor(TableSpans.wholeTable(t))).hasSize(1);
    }
  }
}
