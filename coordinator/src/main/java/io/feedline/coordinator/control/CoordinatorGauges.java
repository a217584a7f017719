package io.feedline.coordinator.control;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.BlockerReason;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.coordinator.CheckpointReport;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.PositionKind;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-changefeed and per-node gauges of the coordinator, refreshed from its state on the coordinator's
 * context (the scrape runs elsewhere and must not read that state) and emptied when the term ends, so only
 * the leading node reports them:
 * <ul>
 *   <li>{@code feedline.changefeed.checkpoint.timestamp{changefeed}} (seconds since the epoch): the checkpoint's
 *       physical time (a TSO timestamp does not fit a double; its physical part does), for lag alerts;</li>
 *   <li>{@code feedline.changefeed.checkpoint.lag.seconds{changefeed}}: how far the checkpoint is behind the
 *       coordinator's clock at the refresh;</li>
 *   <li>{@code feedline.changefeed.resolved.lag.seconds{changefeed}}: how far the lowest resolved position its
 *       dispatchers reported (where the source has got to) is behind that clock;</li>
 *   <li>{@code feedline.changefeed.checkpoint.blockers{changefeed,reason}}: of the spans the maintainer
 *       reports as holding the checkpoint back (its few slowest), how many for each reason, 0 included;</li>
 *   <li>{@code feedline.changefeed.state{changefeed,state}}: 1 for the changefeed's current state;</li>
 *   <li>{@code feedline.coordinator.maintainers{node}}: adopted maintainers per node;</li>
 *   <li>{@code feedline.coordinator.heartbeat.age.seconds{node}}: time since each node that hosts
 *       maintainers last sent a maintainer heartbeat (a node that stops answering shows a growing age
 *       before its session expires);</li>
 *   <li>{@code feedline.coordinator.drain.remaining{node}}: what is left of the drain of that node (one row
 *       while a drain runs; 0 once it is done, until the node leaves);</li>
 *   <li>{@code feedline.node.dispatchers{node}}: dispatchers per node, from the node heartbeats.</li>
 * </ul>
 */
public final class CoordinatorGauges {

  private final MultiGauge checkpoints;
  private final MultiGauge lags;
  private final MultiGauge resolvedLags;
  private final MultiGauge blockers;
  private final MultiGauge heartbeatAges;
  private final MultiGauge states;
  private final MultiGauge maintainers;
  private final MultiGauge drainRemaining;
  private final MultiGauge dispatchers;

  public CoordinatorGauges(MeterRegistry registry) {
    checkpoints = MultiGauge.builder("feedline.changefeed.checkpoint.timestamp").baseUnit("seconds")
        .description("Physical time (seconds since the epoch) of the changefeed's persisted checkpoint").register(registry);
    lags = MultiGauge.builder("feedline.changefeed.checkpoint.lag.seconds")
        .description("Seconds the changefeed's persisted checkpoint is behind the coordinator's clock").register(registry);
    resolvedLags = MultiGauge.builder("feedline.changefeed.resolved.lag.seconds")
        .description("Seconds the lowest resolved position the changefeed's dispatchers reported is behind the coordinator's clock")
        .register(registry);
    blockers = MultiGauge.builder("feedline.changefeed.checkpoint.blockers")
        .description("Slowest spans the changefeed's maintainer reports as holding its checkpoint back, by reason").register(registry);
    heartbeatAges = MultiGauge.builder("feedline.coordinator.heartbeat.age.seconds")
        .description("Seconds since a node hosting maintainers last sent the coordinator a maintainer heartbeat").register(registry);
    states = MultiGauge.builder("feedline.changefeed.state").description("1 for the changefeed's current state").register(registry);
    maintainers = MultiGauge.builder("feedline.coordinator.maintainers").description("Maintainers the coordinator placed per node").register(registry);
    drainRemaining = MultiGauge.builder("feedline.coordinator.drain.remaining")
        .description("Maintainers, dispatchers, moves or unacknowledging changefeeds left on the node being drained").register(registry);
    dispatchers = MultiGauge.builder("feedline.node.dispatchers").description("Dispatchers per node, as its node heartbeat reported").register(registry);
  }

  /** Takes the coordinator's state at {@code nowMillis} (its clock); runs on its context. */
  public void refresh(CoordinatorControl coordinator, long nowMillis) {
    List<MultiGauge.Row<?>> checkpointRows = new ArrayList<>();
    List<MultiGauge.Row<?>> lagRows = new ArrayList<>();
    List<MultiGauge.Row<?>> resolvedLagRows = new ArrayList<>();
    List<MultiGauge.Row<?>> blockerRows = new ArrayList<>();
    List<MultiGauge.Row<?>> stateRows = new ArrayList<>();
    for (ChangefeedRecord r : coordinator.list()) {
      String id = r.info().getId();
      stateRows.add(MultiGauge.Row.of(Tags.of("changefeed", id, "state", stateName(r.info().getState())), 1));
      CheckpointReport report = coordinator.checkpointReport(r.id());
      Map<String, Integer> byReason = new HashMap<>();
      report.blockers().forEach(b -> byReason.merge(b.getReason(), 1, Integer::sum));
      for (BlockerReason reason : BlockerReason.values()) {
        blockerRows.add(MultiGauge.Row.of(Tags.of("changefeed", id, "reason", reason.label()), byReason.getOrDefault(reason.label(), 0)));
      }
      if (r.info().getPositionKind() != PositionKind.POSITION_KIND_TSO) {
        continue; // a log position carries no time: the source's own lag gauge (feedline_source_lag_seconds) tells
      }
      long physical = TimestampOracle.physicalMillis(r.status().getCheckpointTs());
      checkpointRows.add(MultiGauge.Row.of(Tags.of("changefeed", id), physical / 1000.0));
      lagRows.add(MultiGauge.Row.of(Tags.of("changefeed", id), TimestampOracle.lagSeconds(nowMillis, r.status().getCheckpointTs())));
      if (report.resolvedTs() != 0) {
        resolvedLagRows.add(MultiGauge.Row.of(Tags.of("changefeed", id), TimestampOracle.lagSeconds(nowMillis, report.resolvedTs())));
      }
    }
    Map<NodeId, Integer> perNode = new HashMap<>();
    for (Map.Entry<ChangefeedId, NodeId> e : coordinator.maintainers().entrySet()) {
      perNode.merge(e.getValue(), 1, Integer::sum);
    }
    List<MultiGauge.Row<?>> nodeRows = new ArrayList<>();
    perNode.forEach((node, count) -> nodeRows.add(MultiGauge.Row.of(Tags.of("node", node.value()), count)));
    List<MultiGauge.Row<?>> ageRows = new ArrayList<>();
    coordinator.lastHeartbeats().forEach((node, last) ->
        ageRows.add(MultiGauge.Row.of(Tags.of("node", node.value()), Math.max(0, nowMillis - last) / 1000.0)));
    // overwrite = true: rows of removed changefeeds (or of a changed state) disappear.
    checkpoints.register(checkpointRows, true);
    lags.register(lagRows, true);
    resolvedLags.register(resolvedLagRows, true);
    blockers.register(blockerRows, true);
    states.register(stateRows, true);
    maintainers.register(nodeRows, true);
    heartbeatAges.register(ageRows, true);
    drainRemaining.register(coordinator.drainStatus()
        .<List<MultiGauge.Row<?>>>map(d -> List.of(MultiGauge.Row.of(Tags.of("node", d.getKey().value()), d.getValue())))
        .orElse(List.of()), true);
    List<MultiGauge.Row<?>> dispatcherRows = new ArrayList<>();
    coordinator.nodeReports().forEach((node, r) -> dispatcherRows.add(MultiGauge.Row.of(Tags.of("node", node.value()), r.dispatchers())));
    dispatchers.register(dispatcherRows, true);
  }

  public void clear() {
    checkpoints.register(List.of(), true);
    lags.register(List.of(), true);
    resolvedLags.register(List.of(), true);
    blockers.register(List.of(), true);
    heartbeatAges.register(List.of(), true);
    states.register(List.of(), true);
    maintainers.register(List.of(), true);
    drainRemaining.register(List.of(), true);
    dispatchers.register(List.of(), true);
  }

  private static String stateName(ChangefeedState state) {
    return state.name().substring("CHANGEFEED_STATE_".length());
  }
}
