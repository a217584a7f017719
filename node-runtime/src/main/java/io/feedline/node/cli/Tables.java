package io.feedline.node.cli;

import io.feedline.node.admin.AdminJson;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.NodeView;
import java.util.ArrayList;
import java.util.List;

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

  static String nodes(List<NodeView> views) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("ID", "ADDRESS", "LIVENESS", "COORDINATOR", "MAINTAINERS", "DISPATCHERS", "METASTORE"));
    for (NodeView v : views) {
      rows.add(List.of(v.getId(), v.getAddress(), v.getLiveness().name().substring("NODE_LIVENESS_".length()),
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
