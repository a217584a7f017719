package io.feedline.maintainer.manager;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.testing.RecordingOutbox;
import io.feedline.common.time.ManualScheduler;
import io.feedline.maintainer.HandStoppedMaintainer;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerFactory;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.maintainer.PlaceholderMaintainerFactory;
import io.feedline.proto.AddMaintainerRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.CoordinatorBootstrapRequest;
import io.feedline.proto.CoordinatorBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerHeartbeat;
import io.feedline.proto.MaintainerStatus;
import io.feedline.proto.RemoveMaintainerRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A maintainer manager on node {@link #SELF} in a three-node cluster, driven through its real runtime on
 * a manual clock. The test thread plays the event loop: it delivers messages and advances time.
 */
final class ManagerFixture {

  static final NodeId SELF = NodeId.of("n1");
  static final NodeId N2 = NodeId.of("n2");
  static final NodeId N3 = NodeId.of("n3");
  static final NodeId COORDINATOR = NodeId.of("c1");
  static final long VERSION = 10;
  static final Timings TIMINGS = Timings.DEFAULTS;
  /** This node's process epoch, which liveness commands must carry. */
  static final long NODE_EPOCH = 777;

  final ManualScheduler scheduler = new ManualScheduler(0);
  final RecordingOutbox outbox = new RecordingOutbox();
  final Set<NodeId> liveNodes = new LinkedHashSet<>(List.of(SELF, N2, N3));
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  final MaintainerServices services =
      new MaintainerServices(SELF, outbox, scheduler, TIMINGS.resendInterval(), () -> Set.copyOf(liveNodes));
  /** Every maintainer the manager created, in order. */
  final List<Maintainer> created = new ArrayList<>();
  /** What the dispatcher role would report as this node's dispatcher count. */
  final java.util.concurrent.atomic.AtomicLong dispatchers = new java.util.concurrent.atomic.AtomicLong();
  /** Since when the node has not reached its metastore, as its runtime would say (0: it does). */
  final java.util.concurrent.atomic.AtomicLong metastoreUnreachableSinceMs = new java.util.concurrent.atomic.AtomicLong();
  final MaintainerManager manager;
  final MaintainerManagerRuntime runtime;

  private ManagerFixture(boolean handStopped) {
    MaintainerFactory real = new PlaceholderMaintainerFactory(services);
    MaintainerFactory factory = new MaintainerFactory() {
      @Override
      public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
        Maintainer m = handStopped
            ? new HandStoppedMaintainer(changefeed, epoch, checkpointTs)
            : real.create(changefeed, epoch, info, checkpointTs, isNew);
        created.add(m);
        return m;
      }

      @Override
      public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
        Maintainer m = real.removeOnly(changefeed, epoch, removed);
        created.add(m);
        return m;
      }
    };
    manager = new MaintainerManager(SELF, NODE_EPOCH, TIMINGS, factory, dispatchers::get, metastoreUnreachableSinceMs::get, metrics);
    runtime = new MaintainerManagerRuntime(manager, outbox, scheduler, TIMINGS.maintainerHeartbeat());
    runtime.start();
  }

  /** Maintainers for adds are placeholders; their cascading stops really close dispatcher managers. */
  static ManagerFixture withPlaceholders() {
    return new ManagerFixture(false);
  }

  /** Maintainers for adds are {@link HandStoppedMaintainer}s. */
  static ManagerFixture withHandStoppedMaintainers() {
    return new ManagerFixture(true);
  }

  /** A fixture already bootstrapped by {@link #COORDINATOR} at {@link #VERSION}, outbox cleared. */
  static ManagerFixture bootstrapped(ManagerFixture fixture) {
    fixture.receive(COORDINATOR, bootstrap(VERSION));
    fixture.outbox.clear();
    return fixture;
  }

  // ---- inputs ----

  boolean receive(NodeId from, Message payload) {
    return runtime.handle(Inbound.of(from, payload));
  }

  void advance(long millis) {
    scheduler.advance(millis);
  }

  static CoordinatorBootstrapRequest bootstrap(long version) {
    return CoordinatorBootstrapRequest.newBuilder().setElectionVersion(version).build();
  }

  static ByteString config(String changefeed, String sinkUri) {
    return ChangefeedInfo.newBuilder().setId(changefeed).setSinkUri(sinkUri).build().toByteString();
  }

  static AddMaintainerRequest add(String changefeed, long epoch) {
    return add(changefeed, epoch, 100 + epoch);
  }

  static AddMaintainerRequest add(String changefeed, long epoch, long checkpointTs) {
    return AddMaintainerRequest.newBuilder()
        .setElectionVersion(VERSION)
        .setChangefeedId(changefeed)
        .setConfig(config(changefeed, "blackhole://"))
        .setCheckpointTs(checkpointTs)
        .setIsNew(false)
        .setEpoch(epoch)
        .build();
  }

  static RemoveMaintainerRequest remove(String changefeed, long epoch, boolean cascade, boolean removed) {
    return RemoveMaintainerRequest.newBuilder()
        .setElectionVersion(VERSION)
        .setChangefeedId(changefeed)
        .setCascade(cascade)
        .setRemoved(removed)
        .setEpoch(epoch)
        .build();
  }

  static MaintainerCloseResponse closeResponse(String changefeed, boolean success, long epoch) {
    return MaintainerCloseResponse.newBuilder().setChangefeedId(changefeed).setSuccess(success).setEpoch(epoch).build();
  }

  // ---- outputs ----

  List<MaintainerHeartbeat> heartbeats() {
    return outbox.of(COORDINATOR, Role.COORDINATOR, MaintainerHeartbeat.class);
  }

  List<io.feedline.proto.NodeHeartbeat> nodeHeartbeats() {
    return outbox.of(COORDINATOR, Role.COORDINATOR, io.feedline.proto.NodeHeartbeat.class);
  }

  List<CoordinatorBootstrapResponse> bootstrapResponses(NodeId coordinator) {
    return outbox.of(coordinator, Role.COORDINATOR, CoordinatorBootstrapResponse.class);
  }

  /** Every status of {@code changefeed} sent to the coordinator in heartbeats, in order. */
  List<MaintainerStatus> reported(String changefeed) {
    return heartbeats().stream().flatMap(h -> h.getStatusesList().stream())
        .filter(s -> s.getChangefeedId().equals(changefeed)).toList();
  }

  /** The status of {@code changefeed} the next heartbeat tick sends (forcing one by waiting out the force interval). */
  MaintainerStatus currentStatus(String changefeed) {
    outbox.clear();
    advance(TIMINGS.maintainerStatusForce().toMillis());
    List<MaintainerStatus> reported = reported(changefeed);
    return reported.isEmpty() ? null : reported.get(reported.size() - 1);
  }

  List<MaintainerCloseRequest> closeRequests(NodeId node) {
    return outbox.of(node, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.class);
  }

  @SuppressWarnings("unchecked")
  <T extends Maintainer> T maintainer(int index) {
    return (T) created.get(index);
  }

  double fenceRejections(String type, String reason) {
    return count(metrics.find("feedline.fence.rejections").tag("type", type).tag("reason", reason).counter());
  }

  double rejections(String type, String reason) {
    return count(metrics.find("feedline.maintainer_manager.rejections").tag("type", type).tag("reason", reason).counter());
  }

  double localMaintainersGauge() {
    return metrics.find("feedline.maintainer_manager.maintainers").gauge().value();
  }

  static Predicate<MaintainerStatus> state(io.feedline.proto.ComponentState state, long epoch) {
    return s -> s.getState() == state && s.getEpoch() == epoch;
  }

  private static double count(Counter counter) {
    return counter == null ? 0 : counter.count();
  }
}
