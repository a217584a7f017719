package io.feedline.simulation;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.sim.SimulatedMetaStore;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.NodeSession;
import io.feedline.common.time.Scheduler;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.CoordinatorCandidacy;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.PersistedCheckpoints;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.orchestrator.DispatcherOrchestrator;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerFactory;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.maintainer.changefeed.ChangefeedMaintainer;
import io.feedline.maintainer.changefeed.ChangefeedMaintainerFactory;
import io.feedline.maintainer.changefeed.MaintainerRuntime;
import io.feedline.maintainer.manager.MaintainerManager;
import io.feedline.maintainer.manager.MaintainerManagerRuntime;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.NodeRegistration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One incarnation of a simulated node: the roles a node runs, wired as {@code NodeRuntime} wires them (session, then
 * membership, then the dispatcher orchestrator, the maintainer manager and the coordinator candidacy, which campaigns
 * once the node serves), but on the simulator's one thread and clock, over its network and metastore. A crash ends
 * the incarnation at once: its timers never fire again, its messages in flight are lost, its leases expire on the
 * store's clock. A lost session fences the node itself as a node does, then the simulator rejoins the slot with a new
 * incarnation.
 */
final class SimNode {

  /** The world a node lives in: the simulator's clock, network, metastore and downstreams. */
  interface World {
    Scheduler clock();

    Clock wallClock();

    SimNetwork network();

    SimulatedMetaStore store();

    MetaKeys keys();

    Downstream downstream(ChangefeedId changefeed);

    /** What happens to one sink write on its way (seeded). */
    RecordingSink.SinkFault sinkFault();

    /** A seed for a maintainer's id generator. */
    long maintainerSeed();

    void violation(String violation);

    /** Adds an event to the seed's history. */
    void record(String event);

    /** This incarnation ends ({@code why}: it fenced itself, or could not join): start its slot again a moment later. */
    void restart(SimNode node, String why);
  }

  static final Timings TIMINGS = Timings.DEFAULTS;
  private static final long MEMORY_QUOTA = 64L << 20;

  final String slot;
  final NodeId id;
  private final World world;
  private final NodeScheduler scheduler;
  private final SimulatedMetaStore.Client store;
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final Map<ChangefeedId, MaintainerRuntime> hosted = new HashMap<>();
  private final Outbox outbox;
  private CoordinatorCandidacy coordinator;
  private MaintainerManagerRuntime maintainers;
  private DispatcherOrchestrator orchestrator;
  private boolean serving;

  SimNode(String slot, int incarnation, World world) {
    this.slot = slot;
    this.id = NodeId.of(slot + "-" + incarnation);
    this.world = world;
    this.scheduler = new NodeScheduler(world.clock());
    this.store = world.store().client(id.value());
    this.outbox = world.network().outboxOf(id);
  }

  /** Joins the cluster as {@code NodeRuntime} does; a failed step (the store away) starts over after a while. */
  void start() {
    world.network().attach(id, slot, this::receive);
    long nodeEpoch = world.clock().nowMillis();
    NodeRegistration registration = NodeRegistration.newBuilder().setNodeId(id.value()).setAdminAddress("127.0.0.1:0")
        .setNodeEpoch(nodeEpoch).setVersion("sim").setClustered(true).build();
    NodeSession.open(store, world.keys(), registration, TIMINGS.sessionTtl().toSeconds())
        .compose(session -> {
          ClusterMembership membership = new ClusterMembership(store, world.keys(), scheduler);
          NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("sim"), List.of("http://127.0.0.1:2379"), true, "sim", null, "127.0.0.1", TIMINGS);
          NodeContext node = new NodeContext(id, nodeEpoch, config, store, world.keys(), session, membership, null, metrics);
          startRoles(node);
          return membership.start().compose(v -> session.serving()).onSuccess(v -> {
            serving = true;
            coordinator.campaign();
          });
        })
        // A node that cannot join (the store away) exits and is started again, as a supervisor would.
        .onFailure(err -> world.restart(this, "start-failed"));
  }

  private void startRoles(NodeContext node) {
    orchestrator = new DispatcherOrchestrator(id, new SimEndpoints(), DataPlane.onScheduler(scheduler, MEMORY_QUOTA, metrics), scheduler,
        outbox, metrics, TIMINGS.dispatcherHeartbeat(), PersistedCheckpoints.inStore(store, world.keys()));
    MaintainerServices services = new MaintainerServices(id, outbox, scheduler, TIMINGS.resendInterval(),
        () -> node.membership().members().keySet());
    MaintainerFactory factory = new RecordingFactory(new ChangefeedMaintainerFactory(services, TIMINGS, metrics, world::maintainerSeed));
    MaintainerManager manager = new MaintainerManager(id, node.nodeEpoch(), TIMINGS, factory, orchestrator::dispatcherCount,
        () -> store.outage().map(o -> o.since().toEpochMilli()).orElse(0L), metrics);
    maintainers = new MaintainerManagerRuntime(manager, outbox, scheduler, TIMINGS.maintainerHeartbeat());
    coordinator = new CoordinatorCandidacy(node, outbox, scheduler, world.wallClock(), new AtomicBoolean(true));
    node.membership().onChange(coordinator::onMembership);
    // A node that leaves ALIVE (drained, or fenced itself) must never be elected again.
    maintainers.onLivenessChange(liveness -> {
      if (liveness != NodeLiveness.NODE_LIVENESS_ALIVE) {
        coordinator.standDown("node " + liveness);
      }
    });
    maintainers.start();
    node.session().onLost(v -> {
      // The self-fence: every write path stops at once, the node leaves and rejoins with a new session.
      orchestrator.selfFence();
      maintainers.sessionLost();
      coordinator.stop();
      world.restart(this, "self-fence");
    });
  }

  private void receive(Role role, Inbound in) {
    if (!scheduler.alive || orchestrator == null) {
      return;
    }
    try {
      switch (role) {
        case COORDINATOR -> coordinator.handle(in);
        case MAINTAINER_MANAGER -> maintainers.handle(in);
        case DISPATCHER_ORCHESTRATOR -> {
          if (orchestrator.handles(in.payload())) {
            orchestrator.handle(in);
          }
        }
        default -> { }
      }
    } catch (RuntimeException e) {
      world.violation("HANDLER_THREW: " + role + " on " + id + " threw on " + in.type() + ": " + e);
    }
  }

  /** The process dies: nothing of this incarnation runs again. */
  void crash() {
    scheduler.alive = false;
    world.network().detach(id);
    store.crash();
  }

  boolean alive() {
    return scheduler.alive;
  }

  boolean serving() {
    return scheduler.alive && serving;
  }

  /** This node's coordinator, when it leads. */
  Optional<Coordinator> coordinator() {
    return coordinator == null || !scheduler.alive ? Optional.empty() : coordinator.coordinator();
  }

  /** The admin's "coordinator resign". */
  void resign() {
    if (coordinator != null && scheduler.alive) {
      coordinator.resign();
    }
  }

  SimulatedMetaStore.Client store() {
    return store;
  }

  /** The changefeeds whose maintainer runs here (not stopping), with epochs. */
  Map<ChangefeedId, Long> runningMaintainers() {
    return maintainers == null || !scheduler.alive ? Map.of() : maintainers.manager().runningMaintainers();
  }

  /** The running maintainer of {@code changefeed} here, for the workload's span operations. */
  Optional<ChangefeedMaintainer> maintainer(ChangefeedId changefeed) {
    Long epoch = runningMaintainers().get(changefeed);
    MaintainerRuntime runtime = hosted.get(changefeed);
    return epoch == null || runtime == null || runtime.epoch() != epoch ? Optional.empty() : Optional.of(runtime.maintainer());
  }

  /** Whether this node has a dispatcher manager of {@code changefeed} whose write path is open (it has not begun closing). */
  boolean takesWrites(ChangefeedId changefeed) {
    if (orchestrator == null || !scheduler.alive) {
      return false;
    }
    ManagerRuntime manager = orchestrator.manager(changefeed);
    return manager != null && !manager.closing();
  }

  /** The changefeed's fence (or tombstone) on this node's dispatcher side. */
  Fence fence(ChangefeedId changefeed) {
    return orchestrator == null ? Fence.INITIAL : orchestrator.fence(changefeed);
  }

  /** The coordinator election version this node's maintainer manager obeys (0: none yet). */
  long obeyedElectionVersion() {
    return maintainers == null ? 0 : maintainers.manager().coordinatorElectionVersion();
  }

  /** Keeps the maintainers this node creates, for the workload's span operations. */
  private final class RecordingFactory implements MaintainerFactory {
    private final MaintainerFactory delegate;

    RecordingFactory(MaintainerFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public Maintainer create(ChangefeedId changefeed, long epoch, ChangefeedInfo info, long checkpointTs, boolean isNew) {
      Maintainer created = delegate.create(changefeed, epoch, info, checkpointTs, isNew);
      if (created instanceof MaintainerRuntime runtime) {
        hosted.put(changefeed, runtime);
      }
      return created;
    }

    @Override
    public Maintainer removeOnly(ChangefeedId changefeed, long epoch, boolean removed) {
      return delegate.removeOnly(changefeed, epoch, removed);
    }
  }

  /** Sources are datagen on the simulated clock; sinks write the changefeed's {@link Downstream}. */
  private final class SimEndpoints implements Endpoints {
    @Override
    public Future<Source> openSource(String uri, EndpointContext context) {
      return Future.succeededFuture(new DatagenSource(DatagenSpec.parse(EndpointUri.parse("source", uri)), context.scheduler()));
    }

    @Override
    public Future<Sink> openSink(String uri, EndpointContext context) {
      Downstream downstream = world.downstream(ChangefeedId.of(context.changefeed()));
      return Future.succeededFuture(new RecordingSink(downstream, dispatcher -> new Downstream.Writer(id, dispatcher), scheduler,
          world::sinkFault, world::violation, world::record));
    }
  }

  /** The node's view of the simulator's clock: once the node crashed, none of its timers fire. */
  private static final class NodeScheduler implements Scheduler {
    private final Scheduler clock;
    boolean alive = true;

    NodeScheduler(Scheduler clock) {
      this.clock = clock;
    }

    @Override
    public long nowMillis() {
      return clock.nowMillis();
    }

    @Override
    public Cancellable schedule(long delayMillis, Runnable task) {
      return clock.schedule(delayMillis, () -> {
        if (alive) {
          task.run();
        }
      });
    }

    @Override
    public Cancellable periodic(long periodMillis, Runnable task) {
      Cancellable[] self = new Cancellable[1];
      self[0] = clock.periodic(periodMillis, () -> {
        if (alive) {
          task.run();
        } else {
          self[0].cancel();
        }
      });
      return self[0];
    }
  }
}
