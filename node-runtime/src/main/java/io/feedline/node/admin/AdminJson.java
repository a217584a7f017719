package io.feedline.node.admin;

import io.feedline.postgresql.source.Lsn;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.NodeView;
import io.feedline.proto.PositionKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The JSON shape of admin views, one for the HTTP API and the CLI's {@code --output json}. */
public final class AdminJson {

  private AdminJson() {}

  public static JsonObject changefeed(ChangefeedView v) {
    JsonObject json = new JsonObject()
        .put("id", v.getId())
        .put("state", stateName(v))
        .put("checkpointTs", v.getCheckpointTs())
        .put("epoch", v.getEpoch())
        .put("node", v.getNode().isEmpty() ? null : v.getNode())
        .put("error", v.hasError() ? v.getError().getCode() + ": " + v.getError().getMessage() : null)
        .put("sourceUri", v.getSourceUri())
        .put("sinkUri", v.getSinkUri())
        .put("startTs", v.getStartTs())
        .put("targetTs", v.getTargetTs())
        .put("positionKind", v.getPositionKind().name().substring("POSITION_KIND_".length()));
    if (v.getPositionKind() == PositionKind.POSITION_KIND_LSN) {
      // As PostgreSQL spells them (pg_replication_slots, pg_current_wal_lsn()), beside the numbers.
      json.put("checkpointLsn", Lsn.format(v.getCheckpointTs())).put("startLsn", Lsn.format(v.getStartTs()));
    }
    return json;
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
