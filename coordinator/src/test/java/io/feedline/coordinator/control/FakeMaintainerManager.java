package io.feedline.coordinator.control;

import com.google.protobuf.Message;
import io.feedline.common.drain.NodeDrainTarget;
import io.feedline.common.drain.NodeLivenessState;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.RunningError;
import io.feedline.proto.SetDispatcherDrainTargetRequest;
import io.feedline.proto.SetNodeLivenessRequest;
import io.feedline.proto.SetNodeLivenessResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's maintainer manager as the coordinator sees it, reduced to the protocol: obeys the highest
 * coordinator version, runs maintainers at the epochs it is told, confirms removals in its heartbeats.
 */
final class FakeMaintainerManager {

  record Running(long epoch, long checkpoint) {}

  final NodeId id;
  final Map<ChangefeedId, Running> maintainers = new LinkedHashMap<>();
  /** Confirmed removals, reported (state, epoch) for a few heartbeats. */
  private final Map<ChangefeedId, MaintainerStatus> confirmations = new LinkedHashMap<>();
  private final Map<ChangefeedId, Integer> confirmationsLeft = new LinkedHashMap<>();
  final Map<ChangefeedId, String> failing = new LinkedHashMap<>();
  final List<Message> received = new ArrayList<>();
  /** Dispatchers of each changefeed still on the drain target, as the test sets them. */
  final Map<ChangefeedId, Long> dispatchersOnTarget = new LinkedHashMap<>();
  /** Whether its maintainers report the drain target they were given (false: a maintainer that lags). */
  boolean maintainersAcknowledge = true;
  final long nodeEpoch;
  NodeLivenessState liveness = NodeLivenessState.ALIVE;
  NodeDrainTarget drainTarget = NodeDrainTarget.NONE;
  private long coordinatorVersion;
  /** Numbers this node's reports (heartbeats and liveness responses), as a maintainer manager does. */
  private long reportSeq;

  FakeMaintainerManager(NodeId id) {
    this.id = id;
    this.nodeEpoch = 1000 + Math.abs(id.value().hashCode() % 1000);
  }

  /** Handles one coordinator command; returns the reply to send back, if any. */
  Optional<Message> handle(Message message) {
    received.add(message);
    if (message instanceof CoordinatorBootstrapRequest req) {
      if (req.getElectionVersion() < coordinatorVersion) {
        return Optional.empty();
      }
      coordinatorVersion = req.getElectionVersion();
      return Optional.of(CoordinatorBootstrapResponse.newBuilder().setElectionVersion(coordinatorVersion)
          .addAllStatuses(statuses(true)).setDrainTarget(drainTarget.toProto()).build());
    }
    if (message instanceof SetDispatcherDrainTargetRequest req && req.getElectionVersion() == coordinatorVersion) {
      drainTarget = drainTarget.offer(NodeDrainTarget.of(req.getTarget())).next();
      return Optional.of(nodeHeartbeat());
    }
    if (message instanceof SetNodeLivenessRequest req && req.getElectionVersion() == coordinatorVersion) {
      if (req.getNodeEpoch() == nodeEpoch) {
        liveness = liveness.advanceTo(req.getTarget());
      }
      return Optional.of(SetNodeLivenessResponse.newBuilder().setLiveness(liveness.liveness()).setNodeEpoch(nodeEpoch).setSeq(++reportSeq).build());
    }
    if (message instanceof AddMaintainerRequest add && add.getElectionVersion() == coordinatorVersion) {
      ChangefeedId cf = ChangefeedId.of(add.getChangefeedId());
      Running current = maintainers.get(cf);
      if (current == null || add.getEpoch() > current.epoch()) {
        maintainers.put(cf, new Running(add.getEpoch(), add.getCheckpointTs()));
        confirmations.remove(cf);
      }
    }
    if (message instanceof RemoveMaintainerRequest remove && remove.getElectionVersion() == coordinatorVersion) {
      ChangefeedId cf = ChangefeedId.of(remove.getChangefeedId());
      Running current = maintainers.get(cf);
      if (current == null || remove.getEpoch() >= current.epoch()) {
        maintainers.remove(cf);
        confirmations.put(cf, MaintainerStatus.newBuilder().setChangefeedId(cf.value()).setEpoch(remove.getEpoch())
            .setState(remove.getRemoved() ? ComponentState.COMPONENT_STATE_REMOVED : ComponentState.COMPONENT_STATE_STOPPED).build());
        confirmationsLeft.put(cf, 5);
      }
    }
    return Optional.empty();
  }

  /** A maintainer already running here (e.g. left over from an earlier coordinator's term). */
  void run(ChangefeedId cf, long epoch, long checkpoint) {
    maintainers.put(cf, new Running(epoch, checkpoint));
  }

  void advanceCheckpoints(long to) {
    maintainers.replaceAll((cf, r) -> new Running(r.epoch(), Math.max(r.checkpoint(), to)));
  }

  NodeHeartbeat nodeHeartbeat() {
    return NodeHeartbeat.newBuilder().setLiveness(liveness.liveness()).setNodeEpoch(nodeEpoch).setSeq(++reportSeq)
        .setDrainTargetAcknowledged(drainTarget.toProto()).setDispatchers(maintainers.size() * 10L).build();
  }

  MaintainerHeartbeat heartbeat() {
    MaintainerHeartbeat hb = MaintainerHeartbeat.newBuilder().addAllStatuses(statuses(false)).build();
    confirmationsLeft.replaceAll((cf, n) -> n - 1);
    confirmationsLeft.entrySet().removeIf(e -> {
      if (e.getValue() <= 0) {
        confirmations.remove(e.getKey());
        return true;
      }
      return false;
    });
    return hb;
  }

  private List<MaintainerStatus> statuses(boolean all) {
    List<MaintainerStatus> out = new ArrayList<>();
    maintainers.forEach((cf, r) -> {
      MaintainerStatus.Builder s = MaintainerStatus.newBuilder().setChangefeedId(cf.value()).setEpoch(r.epoch())
          .setCheckpointTs(r.checkpoint()).setBootstrapDone(true).setState(ComponentState.COMPONENT_STATE_WORKING);
      if (maintainersAcknowledge) {
        s.setDrainProgress(DrainProgress.newBuilder().setTarget(drainTarget.toProto())
            .setDispatchersOnTarget(dispatchersOnTarget.getOrDefault(cf, 0L)));
      }
      String error = failing.get(cf);
      if (error != null) {
        s.addErrors(RunningError.newBuilder().setNodeId(id.value()).setCode("sink").setMessage(error));
      }
      out.add(s.build());
    });
    out.addAll(confirmations.values());
    return out;
  }

  long coordinatorVersion() {
    return coordinatorVersion;
  }
}
