package io.feedline.coordinator.control;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.time.Scheduler;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.CoordinatorSettings;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.coordinator.operator.OperatorController;
import io.feedline.proto.AddMaintainerRequest;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the coordinator's control managers share, as KRaft's managers share the cluster and replication views:
 * the changefeed registry in memory, the live nodes and which of them obey this term, the operators in flight,
 * the drain, and the outstanding requests (registry calls, timestamps) whose outcomes are still to come back.
 */
final class CoordinatorState {

  final NodeId self;
  final long electionVersion;
  final Scheduler clock;
  final CoordinatorSettings settings;
  final MeterRegistry metrics;
  final Map<ChangefeedId, Changefeed> changefeeds = new TreeMap<>();
  final OperatorController operators = new OperatorController();
  final Set<NodeId> nodes = new TreeSet<>();
  /** Nodes that have not answered this coordinator's bootstrap: they do not obey it yet. */
  final Set<NodeId> unacknowledged = new TreeSet<>();
  final DrainController drain;
  /** The registry is loaded: the term runs (ticks, admin requests). */
  boolean started;
  /** The term ended: nothing that still comes back is applied. */
  boolean stopped;
  boolean bootstrapped;
  /** Registry calls and timestamp requests sent out, by id, with what to do with their outcome. */
  private final Map<Long, Pending> pending = new HashMap<>();
  private long lastId;

  CoordinatorState(NodeId self, long electionVersion, Scheduler clock, CoordinatorSettings settings, MeterRegistry metrics) {
    this.self = self;
    this.electionVersion = electionVersion;
    this.clock = clock;
    this.settings = settings;
    this.metrics = metrics;
    this.drain = new DrainController(electionVersion, clock, settings.drain());
  }

  long now() {
    return clock.nowMillis();
  }

  /** Remembers what to do once the outcome of a request comes back; returns the request's id. */
  long await(Pending next) {
    long id = ++lastId;
    pending.put(id, next);
    return id;
  }

  /** What waited for request {@code id}; empty for an id this term never issued (or already answered). */
  Optional<Pending> take(long id) {
    return Optional.ofNullable(pending.remove(id));
  }

  Optional<Changefeed> changefeed(ChangefeedId id) {
    return Optional.ofNullable(changefeeds.get(id));
  }

  /** Whether {@code cf} is still the changefeed memory holds under its id (not dropped, nor dropped and created again). */
  boolean current(Changefeed cf) {
    return changefeeds.get(cf.id()) == cf;
  }

  static CoordinatorException notFound(ChangefeedId id) {
    return new CoordinatorException(CoordinatorException.Reason.NOT_FOUND, "changefeed " + id + " does not exist");
  }

  /**
   * Nodes a maintainer may be placed on: obeying this coordinator, alive, not drained, and (during a
   * drain) aware of the target, so nothing they host lands on the drained node.
   */
  List<NodeId> schedulableNodes() {
    return nodes.stream().filter(n -> !unacknowledged.contains(n) && drain.isDestination(n)).toList();
  }

  AddMaintainerRequest addRequest(ChangefeedRecord record, boolean isNew) {
    return AddMaintainerRequest.newBuilder()
        .setElectionVersion(electionVersion)
        .setChangefeedId(record.info().getId())
        // The config travels as the latest persisted info, epoch included.
        .setConfig(record.info().toByteString())
        .setCheckpointTs(record.status().getCheckpointTs())
        .setIsNew(isNew)
        .setEpoch(record.epoch())
        .build();
  }
}
