package io.feedline.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.span.TableSpans;
import io.feedline.node.admin.AdminJson;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.PositionKind;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** What {@code changefeed query} prints of a changefeed whose checkpoint is held, as a table and as JSON. */
class TablesTest {

  /** A TSO timestamp above 2^53: a JavaScript number could not hold it. */
  private static final long CHECKPOINT = (1_796_589_574_964L << 18) | 7;

  private static final ChangefeedView HELD = ChangefeedView.newBuilder().setId("shop").setState(ChangefeedState.CHANGEFEED_STATE_NORMAL)
      .setCheckpointTs(CHECKPOINT).setEpoch(12).setNode("n1").setPositionKind(PositionKind.POSITION_KIND_TSO).setResolvedTs(CHECKPOINT + 99)
      .setCheckpointLagSeconds(42.25).setResolvedLagSeconds(0.5)
      .addBlockers(CheckpointBlocker.newBuilder().setSpan(TableSpans.wholeTable(7)).setTable("public.orders").setNode("n2")
          .setDispatcherState("WORKING").setCheckpointTs(CHECKPOINT).setReason("sink-error")
          .setDetail("a write has waited for the sink since 2026-12-06T21:00:00Z"))
      .addBlockers(CheckpointBlocker.newBuilder().setSpan(TableSpans.wholeTable(9)).setCheckpointTs(CHECKPOINT + 5).setReason("absent")
          .setDetail("no dispatcher replicates it; it waits to be placed"))
      .build();

  @Test
  void theTableSaysHowFarBehindAndWhatHoldsIt() {
    String text = Tables.changefeed(HELD);
    assertThat(text).contains("LAG  checkpoint 42.3 s, resolved 0.5 s");
    assertThat(text.lines().filter(l -> l.startsWith("HELD BY"))).singleElement().asString()
        .contains("SPAN", "NODE", "DISPATCHER", "CHECKPOINT", "REASON", "DETAIL");
    assertThat(text.lines().filter(l -> l.startsWith("public.orders"))).singleElement().asString()
        .contains("n2", "WORKING", Long.toUnsignedString(CHECKPOINT), "sink-error", "a write has waited for the sink since 2026-12-06T21:00:00Z");
    assertThat(text.lines().filter(l -> l.startsWith("table 9"))).singleElement().asString().contains(" - ", "absent");
  }

  @Test
  void theJsonCarriesLagsBlockersAnd64BitPositionsAsStrings() {
    JsonObject json = AdminJson.changefeed(HELD);
    assertThat(json.getValue("checkpointTs")).isEqualTo(Long.toUnsignedString(CHECKPOINT));
    assertThat(json.getValue("epoch")).isEqualTo("12");
    assertThat(json.getValue("resolvedTs")).isEqualTo(Long.toUnsignedString(CHECKPOINT + 99));
    assertThat(json.getDouble("lagSeconds")).isEqualTo(42.25);
    assertThat(json.getDouble("resolvedLagSeconds")).isEqualTo(0.5);
    JsonObject first = json.getJsonArray("blockers").getJsonObject(0);
    assertThat(first.fieldNames()).containsExactlyInAnyOrder("table", "span", "node", "dispatcherState", "checkpointTs", "reason", "detail");
    assertThat(first.getString("table")).isEqualTo("public.orders");
    assertThat(first.getValue("checkpointTs")).isEqualTo(Long.toUnsignedString(CHECKPOINT));
    JsonObject absent = json.getJsonArray("blockers").getJsonObject(1);
    assertThat(absent.getString("table")).isEqualTo("table 9");
    assertThat(absent.getValue("node")).isNull();
  }

  @Test
  void anLsnChangefeedHasNoLagInSeconds() {
    JsonObject json = AdminJson.changefeed(HELD.toBuilder().setPositionKind(PositionKind.POSITION_KIND_LSN).clearCheckpointLagSeconds()
        .clearResolvedLagSeconds().build());
    assertThat(json.containsKey("lagSeconds")).isTrue();
    assertThat(json.getValue("lagSeconds")).isNull();
    assertThat(Tables.changefeed(HELD.toBuilder().clearCheckpointLagSeconds().build())).doesNotContain("LAG");
  }
}
