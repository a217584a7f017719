package io.feedline.node.admin;

import io.feedline.common.span.TableSpans;
import io.feedline.postgresql.source.Lsn;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.NodeView;
import io.feedline.proto.PositionKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The JSON shape of admin views, one for the HTTP API and the CLI's {@code --output json}. */
public final class AdminJson {

  private AdminJson() {}

  /**
   * Positions and epochs are 64-bit: strings here (as protobuf's JSON mapping writes them), so a
   * JavaScript client, whose numbers hold 53 bits, reads them exactly.
   */
  public static JsonObject changefeed(ChangefeedView v) {
    JsonObject json = new JsonObject()
        .put("id", v.getId())
        .put("state", stateName(v))
        .put("checkpointTs", Long.toUnsignedString(v.getCheckpointTs()))
        .put("epoch", Long.toUnsignedString(v.getEpoch()))
        .put("node", v.getNode().isEmpty() ? null : v.getNode())
        .put("error", v.hasError() ? v.getError().getCode() + ": " + v.getError().getMessage() : null)
        .put("sourceUri", v.getSourceUri())
        .put("sinkUri", v.getSinkUri())
        .put("startTs", Long.toUnsignedString(v.getStartTs()))
        .put("targetTs", Long.toUnsignedString(v.getTargetTs()))
        .put("positionKind", v.getPositionKind().name().substring("POSITION_KIND_".length()))
        .put("resolvedTs", Long.toUnsignedString(v.getResolvedTs()))
        // Seconds behind the coordinator's clock; null for LSN positions, which carry no time.
        .put("lagSeconds", v.hasCheckpointLagSeconds() ? v.getCheckpointLagSeconds() : null)
        .put("resolvedLagSeconds", v.hasResolvedLagSeconds() ? v.getResolvedLagSeconds() : null);
    if (v.getPositionKind() == PositionKind.POSITION_KIND_LSN) {
      // As PostgreSQL spells them (pg_replication_slots, pg_current_wal_lsn()), beside the numbers.
      json.put("checkpointLsn", Lsn.format(v.getCheckpointTs())).put("startLsn", Lsn.format(v.getStartTs()));
    }
    JsonArray blockers = new JsonArray();
    for (CheckpointBlocker b : v.getBlockersList()) {
      blockers.add(new JsonObject()
          .put("table", tableName(b))
          .put("span", TableSpans.format(b.getSpan()))
          .put("node", b.getNode().isEmpty() ? null : b.getNode())
          .put("dispatcherState", b.getDispatcherState().isEmpty() ? null : b.getDispatcherState())
          .put("checkpointTs", Long.toUnsignedString(b.getCheckpointTs()))
          .put("reason", b.getReason())
          .put("detail", b.getDetail()));
    }
    return json.put("blockers", blockers);
  }

  /** The blocker's table as the source names it, or by id when the maintainer does not know its name. */
  public static String tableName(CheckpointBlocker b) {
    return b.getTable().isEmpty() ? "table " + b.getSpan().getTableId() : b.getTable();
  }

  /** A position as users read it: a TSO timestamp in decimal, an LSN as {@code X/Y}. */
  public static String position(long position, PositionKind kind) {
    return kind == PositionKind.POSITION_KIND_LSN ? Lsn.format(position) : Long.toUnsignedString(position);
  }

  public static JsonArray changefeeds(Iterable<ChangefeedView> views) {
    JsonArray out = new JsonArray();
    views.forEach(v -> out.add(changefeed(v)));
    return out;
  }

  public static JsonObject node(NodeView v) {
    return new JsonObject()
        .put("id", v.getId())
        .put("address", v.getAddress())
        .put("state", v.getState())
        .put("liveness", v.getLiveness().name().substring("NODE_LIVENESS_".length()))
        .put("coordinator", v.getCoordinator())
        .put("maintainers", v.getMaintainers())
        .put("dispatchers", v.getDispatchers())
        .put("metastoreUnreachableSince", v.getMetastoreUnreachableSinceMs() == 0 ? null
            : java.time.Instant.ofEpochMilli(v.getMetastoreUnreachableSinceMs()).toString());
  }

  public static JsonArray nodes(Iterable<NodeView> views) {
    JsonArray out = new JsonArray();
    views.forEach(v -> out.add(node(v)));
    return out;
  }

  /** {@code NORMAL}, {@code STOPPED}, ...: the enum name without its prefix. */
  public static String stateName(ChangefeedView v) {
    return v.getState().name().substring("CHANGEFEED_STATE_".length());
  }

  public static JsonObject error(AdminError e) {
    return new JsonObject().put("error", new JsonObject().put("code", e.status().name()).put("message", e.getMessage()));
  }
}
