package io.feedline.node.admin;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metrics.Meters;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeState;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.common.uri.SinkUris;
import io.feedline.coordinator.CheckpointReport;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.CoordinatorVerticle;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.drain.DrainController;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.proto.AdminGrpcClient;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedRef;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.CreateChangefeedRequest;
import io.feedline.proto.DrainNodeRequest;
import io.feedline.proto.DrainNodeResponse;
import io.feedline.proto.HealthRequest;
import io.feedline.proto.HealthResponse;
import io.feedline.proto.ListChangefeedsRequest;
import io.feedline.proto.ListChangefeedsResponse;
import io.feedline.proto.ListNodesRequest;
import io.feedline.proto.ListNodesResponse;
import io.feedline.proto.NodeLiveness;
import io.feedline.proto.NodeRegistration;
import io.feedline.proto.NodeView;
import io.feedline.proto.PositionKind;
import io.feedline.proto.ResignCoordinatorRequest;
import io.feedline.proto.ResignCoordinatorResponse;
import io.feedline.proto.ResumeChangefeedRequest;
import io.feedline.proto.UpdateChangefeedRequest;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API, implemented once for the gRPC service and the JSON endpoint: authentication, input
 * validation, then the operation on the coordinator. When this node leads, the operation runs on the
 * coordinator verticle's context; otherwise the request is forwarded, over the admin gRPC API, to
 * the leader's node (the election proposal is the leader's node id; its registration gives the admin
 * address). A forwarded request that finds no coordinator here fails UNAVAILABLE instead of bouncing; one that no
 * coordinator has seen yet is tried again for a few seconds (see {@link #atCoordinator}).
 *
 * <p>Never throws: every failure is an {@link AdminError}, counted in
 * {@code feedline.admin.requests{operation,status}}.
 */
public final class AdminOperations {

  private static final Logger LOG = LoggerFactory.getLogger(AdminOperations.class);

  /** How long a request is tried again while no coordinator can take it (well within clients' call timeouts). */
  private static final long RETRY_MILLIS = 8_000;
  private static final long FIRST_RETRY_MILLIS = 100;
  private static final long MAX_RETRY_MILLIS = 1_000;

  /** Failure of the local attempt meaning "this node does not lead": forward instead. */
  private static final AdminError NOT_LEADING = new AdminError(GrpcStatus.UNAVAILABLE, "not leading");

  private final NodeId self;
  private final CoordinatorVerticle coordinatorRole;
  private final ClusterMembership membership;
  private final MetaStore store;
  private final MetaKeys keys;
  private final ProviderEndpoints endpoints;
  private final AdminRpc forwarder;
  private final byte[] expectedAuthorization;
  private final Clock clock;
  private final MeterRegistry metrics;

  public AdminOperations(NodeId self, CoordinatorVerticle coordinatorRole, ClusterMembership membership, MetaStore store,
      MetaKeys keys, ProviderEndpoints endpoints, AdminRpc forwarder, String token, Clock clock, MeterRegistry metrics) {
    this.self = self;
    this.coordinatorRole = coordinatorRole;
    this.membership = membership;
    this.store = store;
    this.keys = keys;
    this.endpoints = endpoints;
    this.forwarder = forwarder;
    this.expectedAuthorization = token.isEmpty() ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    this.clock = clock;
    this.metrics = metrics;
  }

  // ---- the operations -----------------------------------------------------------------------------------

  public Future<ChangefeedView> createChangefeed(CreateChangefeedRequest req, Caller caller) {
    return run("CreateChangefeed", caller, () -> {
      requireId(req.getId());
      endpoints.checkSource(req.getSourceUri());
      endpoints.checkSink(req.getSinkUri());
      requirePastTs("start ts", req.getStartTs());
      ChangefeedInfo info = ChangefeedInfo.newBuilder().setId(req.getId()).setSourceUri(req.getSourceUri())
          .setSinkUri(req.getSinkUri()).setStartTs(req.getStartTs()).setTargetTs(req.getTargetTs())
          .putAllOptions(req.getOptionsMap()).build();
      // On the coordinator's node only (a forwarded request gets here once): the source readies its upstream
      // (a PostgreSQL source checks the server and creates its slot) and may choose the start position.
      return atCoordinator(AdminGrpcClient.CreateChangefeed, req, caller, c -> endpoints.prepareSource(info, coordinatorRole.context().owner())
          .compose(prepared -> c.create(prepared).recover(err -> refusedCreate(prepared, err)))
          .map(r -> view(c, r)));
    });
  }

  public Future<ListChangefeedsResponse> listChangefeeds(ListChangefeedsRequest req, Caller caller) {
    return run("ListChangefeeds", caller, () -> atCoordinator(AdminGrpcClient.ListChangefeeds, req, caller, c -> {
      ListChangefeedsResponse.Builder out = ListChangefeedsResponse.newBuilder();
      Map<ChangefeedId, NodeId> owners = c.maintainers();
      c.list().stream().sorted(Comparator.comparing(r -> r.info().getId())).forEach(r -> out.addChangefeeds(view(c, owners, r)));
      return Future.succeededFuture(out.build());
    }));
  }

  public Future<ChangefeedView> queryChangefeed(ChangefeedRef req, Caller caller) {
    return run("QueryChangefeed", caller, () -> {
      ChangefeedId id = requireId(req.getId());
      return atCoordinator(AdminGrpcClient.QueryChangefeed, req, caller, c -> c.query(id)
          .map(r -> Future.succeededFuture(view(c, r)))
          .orElseGet(() -> Future.failedFuture(new AdminError(GrpcStatus.NOT_FOUND, "changefeed " + id + " does not exist"))));
    });
  }

  public Future<ChangefeedView> updateChangefeed(UpdateChangefeedRequest req, Caller caller) {
    return run("UpdateChangefeed", caller, () -> {
      ChangefeedId id = requireId(req.getId());
      if (!req.getSinkUri().isEmpty()) {
        endpoints.checkSink(req.getSinkUri());
      }
      return atCoordinator(AdminGrpcClient.UpdateChangefeed, req, caller, c -> c.update(id, info -> {
        ChangefeedInfo.Builder b = info.toBuilder().putAllOptions(req.getOptionsMap());
        if (!req.getSinkUri().isEmpty()) {
          b.setSinkUri(req.getSinkUri());
        }
        if (req.getTargetTs() != 0) {
          b.setTargetTs(req.getTargetTs());
        }
        return b.build();
      }).map(r -> view(c, r)));
    });
  }

  public Future<ChangefeedView> pauseChangefeed(ChangefeedRef req, Caller caller) {
    return run("PauseChangefeed", caller, () -> {
      ChangefeedId id = requireId(req.getId());
      return atCoordinator(AdminGrpcClient.PauseChangefeed, req, caller, c -> c.pause(id).map(r -> view(c, r)));
    });
  }

  public Future<ChangefeedView> resumeChangefeed(ResumeChangefeedRequest req, Caller caller) {
    return run("ResumeChangefeed", caller, () -> {
      ChangefeedId id = requireId(req.getId());
      requirePastTs("overwrite checkpoint ts", req.getOverwriteCheckpointTs());
      return atCoordinator(AdminGrpcClient.ResumeChangefeed, req, caller,
          c -> c.resume(id, req.getOverwriteCheckpointTs()).map(r -> view(c, r)));
    });
  }

  public Future<ChangefeedView> removeChangefeed(ChangefeedRef req, Caller caller) {
    return run("RemoveChangefeed", caller, () -> {
      ChangefeedId id = requireId(req.getId());
      return atCoordinator(AdminGrpcClient.RemoveChangefeed, req, caller, c -> c.remove(id).compose(r -> releaseSource(r).map(v -> view(c, r))));
    });
  }

  /**
   * Every registered node, with what the coordinator knows of it: maintainers it placed there, and the
   * liveness and dispatcher count from the node's last heartbeat.
   */
  public Future<ListNodesResponse> listNodes(ListNodesRequest req, Caller caller) {
    return run("ListNodes", caller, () -> atCoordinator(AdminGrpcClient.ListNodes, req, caller, c -> {
      Map<NodeId, Long> maintainers = new HashMap<>();
      c.maintainers().values().forEach(n -> maintainers.merge(n, 1L, Long::sum));
      Map<NodeId, DrainController.NodeReport> reports = c.nodeReports();
      ListNodesResponse.Builder out = ListNodesResponse.newBuilder();
      membership.members().entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.comparing(NodeId::value)))
          .forEach(e -> {
            DrainController.NodeReport report = reports.get(e.getKey());
            NodeLiveness liveness = report == null ? NodeLiveness.NODE_LIVENESS_ALIVE : report.liveness().liveness();
            out.addNodes(NodeView.newBuilder()
                .setId(e.getKey().value())
                .setAddress(e.getValue().getAdminAddress())
                .setLiveness(liveness)
                .setState(NodeState.of(e.getValue().getServing(), liveness).label())
                .setCoordinator(e.getKey().equals(self))
                .setMaintainers(maintainers.getOrDefault(e.getKey(), 0L))
                .setDispatchers(report == null ? 0 : report.dispatchers())
                .setMetastoreUnreachableSinceMs(report == null ? 0 : report.metastoreUnreachableSinceMs()));
          });
      return Future.succeededFuture(out.build());
    }));
  }

  /**
   * Starts draining a node if it is not being drained yet and answers what is left (0 = drained: the node
   * is STOPPING and may be shut down). Call it again to follow the drain. When the coordinator runs on
   * that node, it hands its leadership over first and the caller is asked to retry at the new one.
   */
  public Future<DrainNodeResponse> drainNode(DrainNodeRequest req, Caller caller) {
    return run("DrainNode", caller, () -> {
      if (req.getNodeId().isBlank()) {
        throw new AdminError(GrpcStatus.INVALID_ARGUMENT, "node id is missing");
      }
      NodeId node = NodeId.of(req.getNodeId());
      return atCoordinator(AdminGrpcClient.DrainNode, req, caller, c -> c.drain(node).compose(reply -> {
        if (!reply.resignFirst()) {
          return Future.succeededFuture(DrainNodeResponse.newBuilder().setRemaining(reply.remaining()).build());
        }
        return coordinatorRole.resign().transform(ar -> Future.failedFuture(new AdminError(GrpcStatus.UNAVAILABLE,
            "the coordinator ran on node " + node + " and handed its leadership over before draining it; retry")));
      }));
    });
  }

  public Future<ResignCoordinatorResponse> resignCoordinator(ResignCoordinatorRequest req, Caller caller) {
    return run("ResignCoordinator", caller, () -> atCoordinator(AdminGrpcClient.ResignCoordinator, req, caller,
        c -> coordinatorRole.resign().map(v -> ResignCoordinatorResponse.getDefaultInstance())));
  }

  /** Answered by this node itself: it is up, and which node leads (empty while none does). */
  public Future<HealthResponse> health(HealthRequest req, Caller caller) {
    return run("Health", caller, () -> leaderId()
        .recover(err -> Future.succeededFuture(Optional.empty()))
        .map(leader -> HealthResponse.newBuilder().setHealthy(true).setNodeId(self.value())
            .setCoordinatorId(leader.map(NodeId::value).orElse("")).build()));
  }

  // ---- shared machinery ---------------------------------------------------------------------------------

  /**
   * A create the coordinator refused outright (a bad argument, a state that forbids it) made no changefeed:
   * what the source readied upstream for it goes again. Any other failure may have created it (an answer lost
   * after the write), and an existing changefeed's slot is not ours to drop, so they keep it.
   */
  private Future<ChangefeedRecord> refusedCreate(ChangefeedInfo prepared, Throwable err) {
    if (err instanceof CoordinatorException e && (e.reason() == CoordinatorException.Reason.INVALID_ARGUMENT
        || e.reason() == CoordinatorException.Reason.FAILED_PRECONDITION)) {
      return endpoints.releaseSource(prepared, coordinatorRole.context().owner()).transform(released -> Future.failedFuture(err));
    }
    return Future.failedFuture(err);
  }

  /**
   * Drops what the removed changefeed's source kept upstream. The changefeed is gone either way; a failure
   * says what is left behind and how to drop it, since an orphan slot would hold the upstream's WAL forever.
   */
  private Future<Void> releaseSource(ChangefeedRecord removed) {
    return endpoints.releaseSource(removed.info(), coordinatorRole.context().owner()).recover(err -> {
      LOG.warn("event=source_release_failed changefeed={} error=\"{}\"", removed.info().getId(), err.getMessage());
      return Future.failedFuture(new AdminError(GrpcStatus.FAILED_PRECONDITION, "changefeed " + removed.info().getId()
          + " is removed, but what its source kept upstream could not be dropped: " + err.getMessage()));
    });
  }

  /** Authenticates, runs {@code work} (whose validation may throw), maps and counts the outcome. */
  private <T> Future<T> run(String operation, Caller caller, Supplier<Future<T>> work) {
    Future<T> result;
    if (!authorized(caller.authorization())) {
      result = Future.failedFuture(new AdminError(GrpcStatus.UNAUTHENTICATED,
          caller.authorization() == null ? "missing bearer token" : "wrong bearer token"));
    } else {
      try {
        result = work.get();
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
    }
    return result.transform(ar -> {
      AdminError error = ar.failed() ? AdminError.of(ar.cause()) : null;
      GrpcStatus status = error == null ? GrpcStatus.OK : error.status();
      Meters.counter(metrics, "feedline.admin.requests", "Admin API requests, by operation and answer", "operation", operation,
          "status", status.name()).increment();
      if (error != null) {
        if (status == GrpcStatus.INTERNAL) {
          LOG.warn("event=admin_request_failed operation={} status={} error=\"{}\"", operation, status, error.getMessage());
        } else {
          LOG.debug("event=admin_request_refused operation={} status={} reason=\"{}\"", operation, status, error.getMessage());
        }
        return Future.failedFuture(error);
      }
      return Future.succeededFuture(ar.result());
    });
  }

  private boolean authorized(String authorization) {
    if (expectedAuthorization == null) {
      return true;
    }
    // Constant time: the comparison must not reveal how much of a guessed token was right.
    return authorization != null && MessageDigest.isEqual(expectedAuthorization, authorization.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Runs {@code local} on the coordinator's context when this node leads, else forwards {@code request}
   * to the leader's node as {@code method}. While no coordinator has seen the request (none elected yet, or the
   * new one's node not serving yet: a cluster starting, a leadership moving), tries again, backing off, for up
   * to {@value #RETRY_MILLIS} ms; a request forwarded here is not (its sender retries).
   */
  private <Req, Resp> Future<Resp> atCoordinator(ServiceMethod<Resp, Req> method, Req request, Caller caller,
      Function<Coordinator, Future<Resp>> local) {
    return atCoordinatorUntil(method, request, caller, local, clock.millis() + RETRY_MILLIS, FIRST_RETRY_MILLIS);
  }

  private <Req, Resp> Future<Resp> atCoordinatorUntil(ServiceMethod<Resp, Req> method, Req request, Caller caller,
      Function<Coordinator, Future<Resp>> local, long deadline, long backoff) {
    return atCoordinatorOnce(method, request, caller, local).recover(err -> {
      if (caller.forwarded() || !(err instanceof AdminError e && e.undelivered()) || clock.millis() + backoff > deadline) {
        return Future.failedFuture(err);
      }
      Promise<Void> waited = Promise.promise();
      coordinatorRole.context().owner().setTimer(backoff, id -> waited.complete());
      return waited.future().compose(v -> atCoordinatorUntil(method, request, caller, local, deadline, Math.min(MAX_RETRY_MILLIS, backoff * 2)));
    });
  }

  private <Req, Resp> Future<Resp> atCoordinatorOnce(ServiceMethod<Resp, Req> method, Req request, Caller caller,
      Function<Coordinator, Future<Resp>> local) {
    Promise<Resp> result = Promise.promise();
    coordinatorRole.context().runOnContext(v -> {
      Optional<Coordinator> coordinator = coordinatorRole.coordinator();
      if (coordinator.isEmpty()) {
        result.fail(NOT_LEADING);
        return;
      }
      try {
        local.apply(coordinator.get()).onComplete(result);
      } catch (RuntimeException e) {
        result.fail(e);
      }
    });
    return result.future().recover(err -> err == NOT_LEADING ? forward(method, request, caller) : Future.failedFuture(err));
  }

  private <Req, Resp> Future<Resp> forward(ServiceMethod<Resp, Req> method, Req request, Caller caller) {
    if (caller.forwarded()) {
      // The leader moved while the request travelled: one hop only, the client retries.
      return Future.failedFuture(new AdminError(GrpcStatus.UNAVAILABLE, "the coordinator moved away from node " + self + "; retry"));
    }
    return leaderId().compose(leader -> {
      if (leader.isEmpty()) {
        return Future.failedFuture(AdminError.undelivered("no coordinator is elected yet; retry"));
      }
      NodeId node = leader.get();
      NodeRegistration registration = membership.members().get(node);
      if (node.equals(self) || registration == null) {
        return Future.failedFuture(AdminError.undelivered("the coordinator on node " + node + " is starting; retry"));
      }
      Map<String, String> headers = new HashMap<>();
      if (caller.authorization() != null) {
        headers.put(AdminRpc.AUTHORIZATION, caller.authorization());
      }
      headers.put(Caller.FORWARDED_HEADER, self.value());
      return forwarder.call(AdminRpc.address(registration.getAdminAddress()), method, request, headers);
    });
  }

  private Future<Optional<NodeId>> leaderId() {
    return store.election().leader(keys.coordinatorElection())
        .map(leader -> leader.map(l -> NodeId.of(new String(l.proposal(), StandardCharsets.UTF_8))));
  }

  private static ChangefeedId requireId(String id) {
    if (!ChangefeedId.isValid(id)) {
      throw new AdminError(GrpcStatus.INVALID_ARGUMENT, id.isEmpty() ? "changefeed id is missing" : "invalid changefeed id '" + id + "'");
    }
    return ChangefeedId.of(id);
  }

  /** A timestamp the caller gives must be a TSO timestamp not after now (0 = the default). */
  private void requirePastTs(String what, long ts) {
    if (ts < 0) {
      throw new AdminError(GrpcStatus.INVALID_ARGUMENT, what + " " + ts + " is negative");
    }
    if (TimestampOracle.physicalMillis(ts) > clock.millis()) {
      throw new AdminError(GrpcStatus.INVALID_ARGUMENT, what + " " + ts + " is in the future (physical time "
          + TimestampOracle.physicalMillis(ts) + " ms > now " + clock.millis() + " ms)");
    }
  }

  private ChangefeedView view(Coordinator c, ChangefeedRecord r) {
    return view(c, c.maintainers(), r);
  }

  /** The changefeed as users see it: its record, where its maintainer runs, and what that maintainer last reported. */
  private ChangefeedView view(Coordinator c, Map<ChangefeedId, NodeId> owners, ChangefeedRecord r) {
    ChangefeedInfo info = r.info();
    ChangefeedView.Builder b = ChangefeedView.newBuilder()
        .setId(info.getId())
        .setState(info.getState())
        .setCheckpointTs(r.status().getCheckpointTs())
        .setEpoch(info.getEpoch())
        .setNode(Optional.ofNullable(owners.get(r.id())).map(NodeId::value).orElse(""))
        .setSinkUri(SinkUris.redact(info.getSinkUri()))
        .setSourceUri(SinkUris.redact(info.getSourceUri()))
        .setStartTs(info.getStartTs())
        .setTargetTs(info.getTargetTs())
        .setPositionKind(info.getPositionKind());
    if (info.hasError()) {
      b.setError(info.getError());
    }
    CheckpointReport report = c.checkpointReport(r.id());
    b.addAllBlockers(report.blockers()).setResolvedTs(report.resolvedTs());
    if (info.getPositionKind() == PositionKind.POSITION_KIND_TSO) {
      long now = clock.millis();
      b.setCheckpointLagSeconds(TimestampOracle.lagSeconds(now, r.status().getCheckpointTs()));
      if (report.resolvedTs() != 0) {
        b.setResolvedLagSeconds(TimestampOracle.lagSeconds(now, report.resolvedTs()));
      }
    }
    return b.build();
  }
}
