package io.feedline.maintainer.changefeed;

import com.google.protobuf.Message;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.InflightOperator;
import io.feedline.proto.InfluencedTables;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SchemaInfo;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.feedline.proto.Watermark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The dispatcher side of a few nodes for one changefeed, as the maintainer sees it through messages:
 * dispatchers per node with state and checkpoint, the table trigger, the in-flight journal of removes.
 * Creates start Initializing and become Working on {@link #startAll()}; removes stop at once and are
 * reported Stopped once. Tests drive it explicitly, so every step is visible.
 */
final class FakeDispatcherSide {

  static final class Dispatcher {
    final DispatcherKey id;
    final TableSpan span;
    ComponentState state = ComponentState.COMPONENT_STATE_INITIALIZING;
    long checkpointTs;
    BlockState block = BlockState.getDefaultInstance();
    SpanHold hold = SpanHold.SPAN_HOLD_NONE;
    String holdDetail = "";

    Dispatcher(DispatcherKey id, TableSpan span, long checkpointTs) {
      this.id = id;
      this.span = span;
      this.checkpointTs = checkpointTs;
    }
  }

  static final class Node {
    final Map<DispatcherKey, Dispatcher> dispatchers = new LinkedHashMap<>();
    final List<InflightOperator> journal = new ArrayList<>();
    final List<SpanStatus> stoppedToReport = new ArrayList<>();
    DispatcherKey trigger;
    long epoch;
    /** The watermark's resolved position its heartbeats carry; 0: none. */
    long resolvedTs;
  }

  /** A DDL upstream: every dispatcher of its tables reaching {@code ts} blocks there until told WRITE or PASS. */
  record Ddl(long ts, List<Long> blocked, List<Long> dropped, List<Long> added) {}

  final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  final List<Ddl> ddls = new ArrayList<>();
  /** DDL writes performed by table triggers, by commit ts. */
  final Map<Long, Integer> ddlWrites = new LinkedHashMap<>();
  /** Tables that exist upstream, answered to the request naming the trigger. */
  final Set<Long> tables = new TreeSet<>();
  /** Answer schedule requests (false: they are lost). */
  boolean answerSchedules = true;
  /** Answer close requests (false: they are lost). */
  boolean answerCloses = true;

  FakeDispatcherSide(NodeId... ids) {
    for (NodeId id : ids) {
      nodes.put(id, new Node());
    }
  }

  Node node(NodeId id) {
    return nodes.get(id);
  }

  /** A dispatcher that already runs on {@code node} (an earlier owner's). */
  Dispatcher place(NodeId node, DispatcherKey id, TableSpan span, ComponentState state, long checkpointTs) {
    Dispatcher d = new Dispatcher(id, span, checkpointTs);
    d.state = state;
    nodes.get(node).dispatchers.put(id, d);
    return d;
  }

  /** The node's answer to {@code request}, or null when it answers nothing. */
  Message answer(NodeId at, Message request) {
    Node n = nodes.get(at);
    if (n == null) {
      return null;
    }
    if (request instanceof MaintainerBootstrapRequest r) {
      n.epoch = r.getEpoch();
      boolean namesTrigger = r.hasTableTriggerEventDispatcherId();
      if (namesTrigger && n.trigger == null) {
        n.trigger = DispatcherKey.of(r.getTableTriggerEventDispatcherId());
        place(at, n.trigger, TableSpan.getDefaultInstance(), ComponentState.COMPONENT_STATE_INITIALIZING, r.getStartTs());
      }
      MaintainerBootstrapResponse.Builder b = snapshot(at);
      if (namesTrigger) {
        Dispatcher t = n.dispatchers.get(n.trigger);
        b.setTriggerCheckpointTs(t.checkpointTs);
        SchemaInfo.Builder schema = SchemaInfo.newBuilder().setSchemaId(1);
        tablesAt(t.checkpointTs).forEach(id -> schema.addTables(TableInfo.newBuilder().setTableId(id).setName("t" + id)
            .setCreateTs(createTsAt(id, t.checkpointTs))));
        b.addSchemasAtStart(schema);
      }
      return b.build();
    }
    if (request instanceof MaintainerPostBootstrapRequest r) {
      Dispatcher t = n.dispatchers.get(DispatcherKey.of(r.getTableTriggerEventDispatcherId()));
      if (t != null) {
        t.state = ComponentState.COMPONENT_STATE_WORKING;
      }
      return MaintainerPostBootstrapResponse.newBuilder().setChangefeedId(r.getChangefeedId())
          .setTableTriggerEventDispatcherId(r.getTableTriggerEventDispatcherId()).setEpoch(n.epoch).build();
    }
    if (request instanceof HeartbeatResponse r) {
      act(at, r);
      return null;
    }
    if (request instanceof MaintainerCloseRequest r && answerCloses) {
      // Closing the manager stops every dispatcher of the changefeed on the node.
      n.dispatchers.clear();
      n.trigger = null;
      return MaintainerCloseResponse.newBuilder().setChangefeedId(r.getChangefeedId()).setSuccess(true).setEpoch(r.getEpoch()).build();
    }
    if (request instanceof ScheduleDispatcherRequest r && answerSchedules) {
      for (DispatcherSchedule item : r.getItemsList()) {
        DispatcherKey id = DispatcherKey.of(item.getId());
        if (item.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE) {
          n.dispatchers.putIfAbsent(id, new Dispatcher(id, item.getSpan(), item.getStartTs()));
        } else {
          stop(at, id);
        }
      }
    }
    return null;
  }

  /** The tables that exist at {@code ts}: dropped ones are gone from their DDL's ts on, created ones there from. */
  List<Long> tablesAt(long ts) {
    Set<Long> out = new TreeSet<>(tables);
    for (Ddl d : ddls) {
      if (ts >= d.ts()) {
        out.removeAll(d.dropped());
        out.addAll(d.added());
      } else {
        out.removeAll(d.added());
      }
    }
    return List.copyOf(out);
  }

  /** The ts of the DDL that last created {@code table} at or before {@code ts}; 0 for a table of the initial set. */
  long createTsAt(long table, long ts) {
    long created = 0;
    for (Ddl d : ddls) {
      if (ts >= d.ts() && d.added().contains(table)) {
        created = Math.max(created, d.ts());
      }
    }
    return created;
  }

  /** Applies barrier actions to the dispatchers of {@code at} blocked at exactly their ts. */
  void act(NodeId at, HeartbeatResponse response) {
    for (DispatcherAction a : response.getActionsList()) {
      for (Dispatcher d : nodes.get(at).dispatchers.values()) {
        if (!d.block.getBlocked() || d.block.getBlockTs() != a.getCommitTs() || d.block.getStage() == BlockStage.BLOCK_STAGE_DONE
            || !a.getInfluenced().getTableIdsList().contains(d.span.getTableId())) {
          continue;
        }
        if (a.getAction() == BarrierAction.BARRIER_ACTION_WRITE) {
          ddlWrites.merge(a.getCommitTs(), 1, Integer::sum);
        }
        d.block = d.block.toBuilder().setStage(BlockStage.BLOCK_STAGE_DONE).build();
      }
    }
  }

  /** Stops a dispatcher; it is reported Stopped in the next heartbeat. */
  void stop(NodeId at, DispatcherKey id) {
    fail(at, id, SpanHold.SPAN_HOLD_NONE, "");
  }

  /** A dispatcher fails in its sink or source ({@code side}, in {@code words}); reported Stopped with them next. */
  void fail(NodeId at, DispatcherKey id, SpanHold side, String words) {
    Node n = nodes.get(at);
    Dispatcher d = n.dispatchers.remove(id);
    long ckpt = d == null ? 0 : d.checkpointTs;
    n.stoppedToReport.add(SpanStatus.newBuilder().setId(id.proto()).setState(ComponentState.COMPONENT_STATE_STOPPED).setCheckpointTs(ckpt)
        .setHold(side).setHoldDetail(words).build());
    if (id.equals(n.trigger)) {
      n.trigger = null;
    }
  }

  /** Every Initializing dispatcher starts working. */
  void startAll() {
    nodes.values().forEach(n -> n.dispatchers.values().forEach(d -> d.state = ComponentState.COMPONENT_STATE_WORKING));
  }

  /**
   * Every working dispatcher moves towards {@code ts}: one that reaches a DDL of its table (the trigger:
   * every DDL) blocks there at ts-1 and reports WAITING; one whose block is DONE moves on.
   */
  void advanceAll(long ts) {
    nodes.values().forEach(n -> n.dispatchers.values().forEach(d -> {
      if (d.state != ComponentState.COMPONENT_STATE_WORKING) {
        return;
      }
      if (d.block.getBlocked() && d.block.getStage() != BlockStage.BLOCK_STAGE_DONE) {
        return;
      }
      long passedTs = d.block.getBlocked() ? d.block.getBlockTs() : -1;
      d.block = BlockState.getDefaultInstance();
      long target = ts;
      for (Ddl ddl : ddls) {
        boolean mine = d.span.getTableId() == 0 || (ddl.blocked().contains(d.span.getTableId()) && !ddl.added().contains(d.span.getTableId()));
        if (mine && ddl.ts() > d.checkpointTs && ddl.ts() <= ts && ddl.ts() != passedTs && ddl.ts() - 1 < target) {
          target = ddl.ts() - 1;
          d.block = BlockState.newBuilder().setBlocked(true).setBlockTs(ddl.ts()).setStage(BlockStage.BLOCK_STAGE_WAITING)
              .setBlockedTables(InfluencedTables.newBuilder().addAllTableIds(ddl.blocked()))
              .setNeedDroppedTables(InfluencedTables.newBuilder().addAllTableIds(ddl.dropped()))
              .addAllNeedAddedTables(ddl.added().stream().map(t -> TableInfo.newBuilder().setTableId(t).setName("t" + t).build()).toList())
              .build();
        }
      }
      d.checkpointTs = Math.max(d.checkpointTs, target);
    }));
  }

  /** The WAITING block statuses of {@code at}, as its manager would send them. */
  BlockStatusRequest blockStatuses(NodeId at) {
    Node n = nodes.get(at);
    BlockStatusRequest.Builder r = BlockStatusRequest.newBuilder().setChangefeedId("cf1").setEpoch(n.epoch);
    n.dispatchers.values().stream().filter(d -> d.block.getBlocked())
        .forEach(d -> r.addStatuses(SpanBlockStatus.newBuilder().setId(d.id.proto()).setState(d.block)));
    return r.build();
  }

  DispatcherHeartbeat heartbeat(NodeId at, String changefeed) {
    Node n = nodes.get(at);
    DispatcherHeartbeat.Builder hb = DispatcherHeartbeat.newBuilder().setChangefeedId(changefeed).setEpoch(n.epoch);
    n.dispatchers.values().forEach(d -> hb.addStatuses(SpanStatus.newBuilder().setId(d.id.proto()).setState(d.state)
        .setCheckpointTs(d.checkpointTs).setBlockState(d.block).setHold(d.hold).setHoldDetail(d.holdDetail)));
    if (n.resolvedTs != 0) {
      hb.setWatermark(Watermark.newBuilder().setResolvedTs(n.resolvedTs));
    }
    hb.addAllStatuses(n.stoppedToReport);
    n.stoppedToReport.clear();
    return hb.build();
  }

  MaintainerBootstrapResponse.Builder snapshot(NodeId at) {
    Node n = nodes.get(at);
    MaintainerBootstrapResponse.Builder b = MaintainerBootstrapResponse.newBuilder().setChangefeedId("cf1").setEpoch(n.epoch);
    n.dispatchers.values().forEach(d -> b.addDispatchers(DispatcherSnapshot.newBuilder().setId(d.id.proto()).setSpan(d.span)
        .setState(d.state).setCheckpointTs(d.checkpointTs).setBlockState(d.block)));
    b.addAllOperators(n.journal);
    return b;
  }

  /** A remove of {@code id} journaled (by an earlier owner) on {@code at}. */
  void journalRemove(NodeId at, DispatcherKey id, TableSpan span, OperatorType type, long epoch) {
    nodes.get(at).journal.add(InflightOperator.newBuilder().setId(id.proto()).setSpan(span).setAction(ScheduleAction.SCHEDULE_ACTION_REMOVE)
        .setOperatorType(type).setEpoch(epoch).build());
  }

  /** Live (Initializing or Working) dispatchers of {@code span} across all nodes. */
  List<DispatcherKey> liveFor(TableSpan span) {
    List<DispatcherKey> out = new ArrayList<>();
    nodes.values().forEach(n -> n.dispatchers.values().stream().filter(d -> d.span.equals(span)).forEach(d -> out.add(d.id)));
    return out;
  }

  int liveCount() {
    return nodes.values().stream().mapToInt(n -> n.dispatchers.size()).sum();
  }
}
