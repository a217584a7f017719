package io.feedline.maintainer.operator;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The schedule items of one round, grouped by destination node: the maintainer sends each node one
 * {@code ScheduleDispatcherRequest} per round however many spans it places there, so a million spans
 * cost a few hundred messages rather than a million.
 */
public final class ScheduleBatch {

  private final Map<NodeId, List<DispatcherSchedule>> byNode = new LinkedHashMap<>();

  void create(NodeId node, DispatcherKey id, TableSpan span, long schemaId, long startTs, OperatorType type) {
    add(node, DispatcherSchedule.newBuilder().setId(id.proto()).setSpan(span).setSchemaId(schemaId).setStartTs(startTs)
        .setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).setOperatorType(type).build());
  }

  void remove(NodeId node, DispatcherKey id, TableSpan span, OperatorType type) {
    add(node, DispatcherSchedule.newBuilder().setId(id.proto()).setSpan(span)
        .setAction(ScheduleAction.SCHEDULE_ACTION_REMOVE).setOperatorType(type).build());
  }

  private void add(NodeId node, DispatcherSchedule item) {
    byNode.computeIfAbsent(node, n -> new ArrayList<>()).add(item);
  }

  public Map<NodeId, List<DispatcherSchedule>> byNode() {
    return byNode;
  }

  public boolean isEmpty() {
    return byNode.isEmpty();
  }
}
