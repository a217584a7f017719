package io.feedline.maintainer;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DrainProgress;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;

/** A working maintainer whose stop completes only when the test says so. */
public final class HandStoppedMaintainer implements Maintainer {

  public record StopCall(boolean cascade, boolean removed) {}

  private final ChangefeedId changefeed;
  private final long epoch;
  private long checkpointTs;
  private final Promise<Void> stopped = Promise.promise();
  private final List<StopCall> stopCalls = new ArrayList<>();
  private final List<Message> dispatcherMessages = new ArrayList<>();
  private final List<DrainTarget> drainTargets = new ArrayList<>();
  /** The manager's calls of start and drainTarget, in order. */
  private final List<String> calls = new ArrayList<>();
  /** Dispatchers still on the drain target, as the test sets them. */
  private long dispatchersOnTarget;
  private int starts;

  public HandStoppedMaintainer(ChangefeedId changefeed, long epoch, long checkpointTs) {
    this.changefeed = changefeed;
    this.epoch = epoch;
    this.checkpointTs = checkpointTs;
  }

  /** Completes the stop the manager asked for. */
  public void completeStop() {
    stopped.complete();
  }

  public void failStop(Throwable cause) {
    stopped.fail(cause);
  }

  /** The maintainer made progress: its status changes. */
  public void advanceCheckpoint(long checkpointTs) {
    this.checkpointTs = checkpointTs;
  }

  /** Every drain target the manager gave, in order. */
  public List<DrainTarget> drainTargets() {
    return List.copyOf(drainTargets);
  }

  public List<String> calls() {
    return List.copyOf(calls);
  }

  public void dispatchersOnTarget(long count) {
    dispatchersOnTarget = count;
  }

  public int starts() {
    return starts;
  }

  public List<StopCall> stopCalls() {
    return List.copyOf(stopCalls);
  }

  public List<Message> dispatcherMessages() {
    return List.copyOf(dispatcherMessages);
  }

  @Override
  public ChangefeedId changefeedId() {
    return changefeed;
  }

  @Override
  public long epoch() {
    return epoch;
  }

  @Override
  public void start() {
    starts++;
    calls.add("start");
  }

  @Override
  public Future<Void> stop(boolean cascade, boolean removed) {
    stopCalls.add(new StopCall(cascade, removed));
    return stopped.future();
  }

  @Override
  public MaintainerStatus status() {
    return MaintainerStatus.newBuilder()
        .setChangefeedId(changefeed.value())
        .setState(ComponentState.COMPONENT_STATE_WORKING)
        .setCheckpointTs(checkpointTs)
        .setBootstrapDone(true)
        .setEpoch(epoch)
        .setDrainProgress(DrainProgress.newBuilder()
            .setTarget(drainTargets.isEmpty() ? DrainTarget.getDefaultInstance() : drainTargets.get(drainTargets.size() - 1))
            .setDispatchersOnTarget(dispatchersOnTarget))
        .build();
  }

  @Override
  public void drainTarget(DrainTarget target) {
    drainTargets.add(target);
    calls.add("drainTarget " + (target.getTargetNode().isEmpty() ? "none" : target.getTargetNode()) + "@" + target.getTargetEpoch());
  }

  @Override
  public void onDispatcherMessage(NodeId from, Message message) {
    dispatcherMessages.add(message);
  }

  @Override
  public String toString() {
    return "HandStoppedMaintainer{" + changefeed + "@" + epoch + "}";
  }
}
