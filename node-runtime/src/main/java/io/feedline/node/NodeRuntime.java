package io.feedline.node;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.drain.NodeLivenessState;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.metrics.Meters;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.NodeSession;
import io.feedline.common.time.VertxScheduler;
import io.feedline.coordinator.CoordinatorVerticle;
import io.feedline.dispatcher.DispatcherOrchestratorVerticle;
import io.feedline.maintainer.MaintainerManagerVerticle;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.node.admin.AdminHttpServer;
import io.feedline.node.admin.AdminOperations;
import io.feedline.node.admin.AdminRpc;
import io.feedline.node.admin.AdminTransport;
import java.time.Clock;
import io.feedline.node.cluster.HazelcastSetup;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.NodeRegistration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Feedline node: Vert.x (local or Hazelcast-clustered), the metastore, the node's session and
 * registration, the admin port, and the three role verticles. {@link #stop()} undoes all of it in
 * reverse order and never fails half-way: each step runs even if the one before it failed.
 */
public final class NodeRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(NodeRuntime.class);
  public static final String VERSION = "0.1.0";
  private static final long ADMIN_FORWARD_TIMEOUT_MS = 10_000;

  private final NodeConfig config;
  private final NodeId nodeId = NodeId.random();
  private final long nodeEpoch = System.currentTimeMillis();
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<String> deployments = new ArrayList<>();
  private final Promise<String> lost = Promise.promise();
  private Vertx vertx;
  private MetaStore store;
  private DispatcherOrchestratorVerticle dispatcherRole;
  private MaintainerManagerVerticle maintainerRole;
  private CoordinatorVerticle coordinatorRole;
  private NodeSession session;
  private ClusterMembership membership;
  private AdminHttpServer admin;
  private int adminPort;
  private boolean stopping;
  /** This node's liveness as its maintainer manager last set it (STOPPING from {@link #stop()} on): its state on /health. */
  private volatile NodeLiveness liveness = NodeLiveness.NODE_LIVENESS_ALIVE;
  /** Null for a node that is a process of its own. */
  private final SharedHost host;

  /**
   * Where a node runs when it is not a process of its own: the simulation hosts many nodes on one Vert.x
   * (event-bus addresses are per node already, so they cannot take each other's messages), gives each
   * node a metastore client of its own (so a crashed node's lease expires like a dead process's) and puts
   * its fault interceptors on each node's control bus. The host owns the Vert.x; a node never closes it.
   *
   * @param storeClient a new metastore client for one node
   * @param busSetup called once with the node's control bus before any role uses it
   */
  public record SharedHost(Vertx vertx, Function<Vertx, MetaStore> storeClient, Consumer<ControlBus> busSetup) {}

  private NodeRuntime(NodeConfig config, SharedHost host) {
    this.config = config;
    this.host = host;
  }

  /** Starts a node; on failure everything already started is stopped again. */
  public static Future<NodeRuntime> start(NodeConfig config) {
    return start(config, null);
  }

  /** Starts a node on a shared host (see {@link SharedHost}); {@code config}'s store and cluster settings are not used. */
  public static Future<NodeRuntime> startOn(SharedHost host, NodeConfig config) {
    return start(config, Objects.requireNonNull(host, "host"));
  }

  private static Future<NodeRuntime> start(NodeConfig config, SharedHost host) {
    NodeRuntime node = new NodeRuntime(config, host);
    return node.startAll().map(v -> node).recover(err -> node.stop().transform(ignored -> Future.failedFuture(err)));
  }

  public NodeId nodeId() {
    return nodeId;
  }

  /** The node's meters (what /metrics serves); for benchmarks and tests in the same JVM. */
  public MeterRegistry metrics() {
    return registry;
  }

  public int adminPort() {
    return adminPort;
  }

  public Vertx vertx() {
    return vertx;
  }

  public ClusterMembership membership() {
    return membership;
  }

  public CoordinatorVerticle coordinatorRole() {
    return coordinatorRole;
  }

  public MaintainerManagerVerticle maintainerRole() {
    return maintainerRole;
  }

  public DispatcherOrchestratorVerticle dispatcherRole() {
    return dispatcherRole;
  }

  /**
   * Dies as {@code kill -9} would, for tests: closes Vert.x (and with it the clustered event bus) and the
   * metastore client without revoking the session, so the cluster notices only when the lease expires.
   */
  public Future<Void> crash() {
    stopping = true;
    LOG.info("event=node_crash_simulated node={}", nodeId);
    if (host == null) {
      return store.close().eventually(() -> vertx.close());
    }
    // The shared Vert.x lives on: the client goes first (its lease is not revoked), then the roles, whose
    // stop hooks find no metastore and — the host has cut this node's bus before calling — no peers.
    Future<Void> chain = store.close();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = step(chain, "undeploy", () -> vertx.undeploy(id));
    }
    chain = step(chain, "membership", () -> {
      membership.stop();
      return Future.succeededFuture();
    });
    return step(chain, "admin", () -> admin.close());
  }

  /** Completes with a reason when the node must leave on its own (its metastore session was lost). */
  public Future<String> lost() {
    return lost.future();
  }

  private Future<Void> startAll() {
    // A hosted node (InJvmCluster) gets its store client from the host, whatever its config says.
    LOG.info("event=node_starting node={} store={} cluster={} data_dir={}", nodeId,
        host != null ? "host" : config.embeddedStore() ? "embedded" : "etcd", config.cluster(), config.dataDir());
    MetaKeys keys = new MetaKeys(config.clusterId());
    return createVertx()
        .compose(v -> {
          vertx = v;
          if (host != null) {
            return Future.succeededFuture(host.storeClient().apply(vertx));
          }
          return config.embeddedStore()
              ? MetaStores.embedded(vertx, config.dataDir().resolve("meta"))
              : Future.succeededFuture(MetaStores.etcd(vertx, config.etcdEndpoints()));
        })
        .compose(s -> {
          store = s;
          membership = new ClusterMembership(store, keys, VertxScheduler.onCurrentContext(vertx));
          Meters.gauge(registry, "feedline.cluster.members", "Registered nodes this node sees", membership, m -> m.members().size());
          MetaStore reached = store;
          io.micrometer.core.instrument.Gauge.builder("feedline.metastore.unreachable", () -> reached.outage()
                  .map(o -> Math.max(0, java.time.Duration.between(o.since(), java.time.Instant.now()).toMillis()) / 1000.0).orElse(0.0))
              .description("How long this node has not reached its metastore (0 while it does); past the session TTL minus its "
                  + "safety margin the node fences itself and rejoins")
              .baseUnit("seconds").register(registry);
          admin = new AdminHttpServer(vertx, nodeId, membership, registry, store::outage, () -> liveness);
          return admin.listen(config.host(), config.port(), config.adminTls());
        })
        .compose(port -> {
          adminPort = port;
          NodeRegistration registration = NodeRegistration.newBuilder()
              .setNodeId(nodeId.value())
              .setAdminAddress(config.host() + ":" + port)
              .setNodeEpoch(nodeEpoch)
              .setVersion(VERSION)
              .setClustered(config.cluster())
              .build();
          return NodeSession.open(store, keys, registration, config.timings().sessionTtl().toSeconds());
        })
        .compose(s -> {
          session = s;
          // Self-fence: without a session this node may no longer act on anything; leave at once.
          session.onLost(v -> {
            LOG.error("event=session_lost node={} lease={} action=stop", nodeId, session.lease().id());
            lost.tryComplete("metastore session lost");
          });
          return membership.start();
        })
        .compose(v -> {
          ControlBus bus = new ControlBus(vertx, nodeId, registry);
          if (host != null) {
            host.busSetup().accept(bus);
          }
          NodeContext ctx = new NodeContext(nodeId, nodeEpoch, config, store, keys, session, membership, bus, registry);
          dispatcherRole = new DispatcherOrchestratorVerticle(ctx);
          // The maintainer manager reports this node's dispatcher count without importing the dispatcher role.
          DispatcherOrchestratorVerticle dispatchers = dispatcherRole;
          coordinatorRole = new CoordinatorVerticle(ctx);
          CoordinatorVerticle coordinator = coordinatorRole;
          // A node that leaves ALIVE (drained, or fenced itself) must never be elected again.
          maintainerRole = new MaintainerManagerVerticle(ctx, dispatchers::dispatcherCount, now -> {
            liveness = now;
            if (now != NodeLiveness.NODE_LIVENESS_ALIVE) {
              coordinator.standDown("node " + NodeLivenessState.label(now));
            }
          });
          Future<Void> chain = Future.succeededFuture();
          // Receivers first; the coordinator deploys last and campaigns only once the node serves.
          Map<String, io.vertx.core.Deployable> roles = new LinkedHashMap<>();
          roles.put("dispatcher-orchestrator", dispatcherRole);
          roles.put("maintainer-manager", maintainerRole);
          roles.put("coordinator", coordinatorRole);
          for (Map.Entry<String, io.vertx.core.Deployable> role : roles.entrySet()) {
            chain = chain.compose(x -> vertx.deployVerticle(role.getValue(), roleThread(role.getKey(), nodeId)).map(id -> {
              deployments.add(id);
              return null;
            }));
          }
          return chain;
        })
        .onSuccess(v -> admin.serveApi(adminOperations(keys)))
        // Only now does node list show it ready, and does it campaign: its admin API answers (a failed write
        // leaves it "starting", said once; it campaigns all the same, or a one-node cluster had no coordinator).
        .onSuccess(v -> session.serving().onComplete(written -> {
          if (written.failed()) {
            LOG.warn("event=serving_not_registered node={} error=\"{}\" shows=starting", nodeId, written.cause().toString());
          }
          coordinatorRole.startCampaign();
        }))
        .onSuccess(v -> LOG.info("event=node_started node={} admin={}:{} tls={} version={}", nodeId, config.host(), adminPort,
            config.adminTls().enabled(), VERSION));
  }

  /**
   * Each role runs on a thread of its own (a one-thread worker pool: its tasks stay serialized, as on an
   * event loop). On shared event loops a busy role (a maintainer working through a DDL-dense firehose's
   * barrier) delayed whichever role Vert.x had put on the same loop, and the dispatcher orchestrator's
   * schedules, heartbeats and closes with it; the event loops keep the network, the admin API and the
   * clients' callbacks. Named per node: nodes sharing one Vert.x (an in-JVM cluster) must not share them.
   */
  private static DeploymentOptions roleThread(String role, NodeId node) {
    String name = "feedline-" + role + "-" + node.value().substring(0, Math.min(8, node.value().length()));
    return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setWorkerPoolName(name).setWorkerPoolSize(1);
  }

  private AdminOperations adminOperations(MetaKeys keys) {
    // Only URI checks are asked of these endpoints; nothing is opened here.
    ProviderEndpoints endpoints = new ProviderEndpoints();
    AdminRpc forwarder = new AdminRpc(vertx, AdminTransport.ClientTls.forNode(config.adminTls()), ADMIN_FORWARD_TIMEOUT_MS);
    return new AdminOperations(nodeId, coordinatorRole, membership, store, keys, endpoints, forwarder, config.adminToken(),
        Clock.systemUTC(), registry);
  }

  private Future<Vertx> createVertx() {
    if (host != null) {
      return Future.succeededFuture(host.vertx());
    }
    VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));
    var builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
    if (!config.cluster()) {
      return Future.succeededFuture(builder.build());
    }
    options.setEventBusOptions(new EventBusOptions()
        .setHost(config.clusterHost())
        .setClusterPublicHost(config.clusterHost())
        .setPort(0));
    return builder.with(options)
        .withClusterManager(HazelcastSetup.clusterManager(HazelcastSetup.load(config.hazelcastConfig()), config.clusterId()))
        .buildClustered();
  }

  /** Stops roles, leaves the cluster (revoking the session deletes the registration), closes everything. */
  public synchronized Future<Void> stop() {
    if (stopping) {
      return Future.succeededFuture();
    }
    stopping = true;
    liveness = NodeLiveness.NODE_LIVENESS_STOPPING;
    LOG.info("event=node_stopping node={}", nodeId);
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = step(chain, "undeploy", () -> vertx.undeploy(id));
    }
    chain = step(chain, "membership", () -> {
      if (membership != null) {
        membership.stop();
      }
      return Future.succeededFuture();
    });
    chain = step(chain, "session", () -> session == null ? Future.succeededFuture() : session.close());
    chain = step(chain, "admin", () -> admin == null ? Future.succeededFuture() : admin.close());
    chain = step(chain, "metastore", () -> store == null ? Future.succeededFuture() : store.close());
    chain = step(chain, "vertx", () -> vertx == null || host != null ? Future.succeededFuture() : vertx.close());
    return chain.onComplete(ar -> LOG.info("event=node_stopped node={}", nodeId));
  }

  private static Future<Void> step(Future<Void> previous, String what, java.util.function.Supplier<Future<?>> action) {
    return previous.eventually(() -> {
      try {
        return action.get().recover(err -> {
          LOG.warn("event=stop_step_failed step={} error=\"{}\"", what, err.toString());
          return Future.succeededFuture();
        });
      } catch (RuntimeException e) {
        LOG.warn("event=stop_step_failed step={} error=\"{}\"", what, e.toString());
        return Future.succeededFuture();
      }
    }).mapEmpty();
  }
}
