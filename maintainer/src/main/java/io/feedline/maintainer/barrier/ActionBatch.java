package io.feedline.maintainer.barrier;

import io.feedline.common.id.NodeId;
import io.feedline.proto.DispatcherAction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The barrier actions of one round by node: each node gets one {@code HeartbeatResponse} carrying all of its. */
public final class ActionBatch {

  private final Map<NodeId, List<DispatcherAction>> byNode = new LinkedHashMap<>();

  void add(NodeId node, DispatcherAction action) {
    List<DispatcherAction> actions = byNode.computeIfAbsent(node, n -> new ArrayList<>());
    if (!actions.contains(action)) {
      actions.add(action);
    }
  }

  public Map<NodeId, List<DispatcherAction>> byNode() {
    return byNode;
  }
}
