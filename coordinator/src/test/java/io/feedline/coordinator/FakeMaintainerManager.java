package io.feedline.coordinator;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import io.feedline.proto.RunningError;
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
  private long coordinatorVersion;

  FakeMaintainerManager(NodeId id) {
    this.id = id;
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
          .addAllStatuses(statuses(true)).build());
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
