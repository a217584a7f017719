package io.feedline.node.cli;

import io.feedline.common.span.TableSpans;
import io.feedline.node.admin.AdminJson;
import io.feedline.proto.CheckpointBlocker;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.NodeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Plain-text tables for the CLI: one header row, columns padded to their widest cell. */
final class Tables {

  private Tables() {}

  static String changefeeds(List<ChangefeedView> views) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ID", "STATE", "CHECKPOINT_TS", "EPOCH", "NODE", "SINK", "ERROR"));
    for (ChangefeedView v : views) {
      rows.add(List.of(v.getId(), AdminJson.stateName(v), AdminJson.position(v.getCheckpointTs(), v.getPositionKind()), Long.toUnsignedString(v.getEpoch()),
          v.getNode().isEmpty() ? "-" : v.getNode(), v.getSinkUri(),
          v.hasError() ? v.getError().getCode() + ": " + v.getError().getMessage() : "-"));
    }
    return render(rows);
  }

  /**
   * One changefeed: its row, then how far it is behind and the spans holding its checkpoint back (the
   * answer to "why does my checkpoint not move").
   */
  static String changefeed(ChangefeedView v) {
    StringBuilder out = new StringBuilder(changefeeds(List.of(v)));
    if (v.hasCheckpointLagSeconds()) {
      out.append(String.format(Locale.ROOT, "%n%nLAG  checkpoint %.1f s", v.getCheckpointLagSeconds()));
      if (v.hasResolvedLagSeconds()) {
        out.append(String.format(Locale.ROOT, ", resolved %.1f s", v.getResolvedLagSeconds()));
      }
    }
    if (v.getBlockersCount() > 0) {
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("HELD BY", "SPAN", "NODE", "DISPATCHER", "CHECKPOINT", "REASON", "DETAIL"));
      for (CheckpointBlocker b : v.getBlockersList()) {
        rows.add(List.of(AdminJson.tableName(b), TableSpans.format(b.getSpan()), b.getNode().isEmpty() ? "-" : b.getNode(),
            b.getDispatcherState().isEmpty() ? "-" : b.getDispatcherState(), AdminJson.position(b.getCheckpointTs(), v.getPositionKind()),
            b.getReason(), b.getDetail()));
      }
      out.append("\n\n").append(render(rows));
    }
    return out.toString();
  }

  static String nodes(List<NodeView> views) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ID", "ADDRESS", "STATE", "LIVENESS", "COORDINATOR", "MAINTAINERS", "DISPATCHERS", "METASTORE"));
    for (NodeView v : views) {
      rows.add(List.of(v.getId(), v.getAddress(), v.getState(), v.getLiveness().name().substring("NODE_LIVENESS_".length()),
          Boolean.toString(v.getCoordinator()), Long.toString(v.getMaintainers()), Long.toString(v.getDispatchers()),
          v.getMetastoreUnreachableSinceMs() == 0 ? "ok"
              : "unreachable since " + java.time.Instant.ofEpochMilli(v.getMetastoreUnreachableSinceMs())));
    }
    return render(rows);
  }

  private static String render(List<List<String>> rows) {
    int[] widths = new int[rows.get(0).size()];
    rows.forEach(r -> {
      for (int i = 0; i < r.size(); i++) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    });
    StringBuilder out = new StringBuilder();
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        line.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + (widths[i] + 2) + "s", r.get(i)));
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString().stripTrailing();
  }
}
