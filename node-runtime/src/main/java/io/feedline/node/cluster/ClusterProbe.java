package io.feedline.node.cluster;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.CoordinatorVerticle;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.DispatcherSnapshot;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Reads in-JVM nodes' role state the only safe way, on each role's own context, for multi-node tests,
 * the simulation and the benchmarks.
 * Nothing here changes a node.
 */
public final class ClusterProbe {

  private static final long CALL_TIMEOUT_SECONDS = 30;

  private ClusterProbe() {}

  /** Runs {@code action} on {@code context} and waits for its result. */
  public static <T> T onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(done));
    return done.future().toCompletionStage().toCompletableFuture().orTimeout(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS).join();
  }

  /** Runs {@code action} on {@code node}'s coordinator; fails if that node does not lead. */
  public static <T> T onCoordinator(NodeRuntime node, Function<Coordinator, Future<T>> action) {
    CoordinatorVerticle role = node.coordinatorRole();
    return onContext(role.context(), () -> {
      Optional<Coordinator> c = role.coordinator();
      return c.isPresent() ? action.apply(c.get()) : Future.failedFuture("not the coordinator");
    });
  }

  /** The node among {@code candidates} whose coordinator is elected and bootstrapped, if any. */
  public static Optional<NodeRuntime> leader(List<NodeRuntime> candidates) {
    for (NodeRuntime n : candidates) {
      CoordinatorVerticle role = n.coordinatorRole();
      boolean ready = onContext(role.context(),
          () -> Future.succeededFuture(role.coordinator().map(Coordinator::bootstrapped).orElse(false)));
      if (ready) {
        return Optional.of(n);
      }
    }
    return Optional.empty();
  }

  /** A Working dispatcher and where it runs. */
  public record WorkingDispatcher(ChangefeedId changefeed, NodeId node, DispatcherSnapshot dispatcher) {}

  /** Every Working dispatcher of {@code live} that may write, each node read on its dispatcher role's context. */
  public static List<WorkingDispatcher> workingDispatchers(List<NodeRuntime> live) {
    List<WorkingDispatcher> all = new ArrayList<>();
    for (NodeRuntime n : live) {
      Map<ChangefeedId, List<DispatcherSnapshot>> local = onContext(n.dispatcherRole().context(),
          () -> Future.succeededFuture(n.dispatcherRole().orchestrator().workingDispatchers()));
      local.forEach((cf, list) -> list.forEach(d -> all.add(new WorkingDispatcher(cf, n.nodeId(), d))));
    }
    return all;
  }

  /**
   * How many dispatchers {@link #workingDispatchers} would list on {@code node}, counted on its dispatcher
   * role's context without copying them: a benchmark polls this at a million dispatchers.
   */
  public static long workingDispatcherCount(NodeRuntime node) {
    return onContext(node.dispatcherRole().context(),
        () -> Future.succeededFuture(node.dispatcherRole().orchestrator().workingDispatcherCount()));
  }

  /** changefeed → (node → epoch) of every maintainer running (not stopping) on {@code live}. */
  public static Map<ChangefeedId, Map<NodeId, Long>> runningMaintainers(List<NodeRuntime> live) {
    Map<ChangefeedId, Map<NodeId, Long>> running = new HashMap<>();
    for (NodeRuntime n : live) {
      Map<ChangefeedId, Long> local = onContext(n.maintainerRole().context(),
          () -> Future.succeededFuture(n.maintainerRole().runningMaintainers()));
      local.forEach((cf, epoch) -> running.computeIfAbsent(cf, k -> new HashMap<>()).put(n.nodeId(), epoch));
    }
    return running;
  }

  /**
   * Why the cluster has not converged on {@code expected}, or "" when it has: every changefeed in it runs
   * exactly one maintainer on a live node, at the persisted epoch, on the node the coordinator names.
   */
  public static String maintainerDivergence(List<ChangefeedRecord> expected, List<NodeRuntime> live, NodeRuntime leader) {
    Map<ChangefeedId, NodeId> coordinatorView = onCoordinator(leader, c -> Future.succeededFuture(c.maintainers()));
    Map<ChangefeedId, Map<NodeId, Long>> running = runningMaintainers(live);
    for (ChangefeedRecord r : expected) {
      Map<NodeId, Long> where = running.getOrDefault(r.id(), Map.of());
      if (where.size() != 1) {
        return r.id() + " runs on " + where;
      }
      var only = where.entrySet().iterator().next();
      if (only.getValue() != r.epoch()) {
        return r.id() + " runs at epoch " + only.getValue() + " but " + r.epoch() + " is persisted";
      }
      if (!only.getKey().equals(coordinatorView.get(r.id()))) {
        return r.id() + " runs on " + only.getKey() + " but the coordinator says " + coordinatorView.get(r.id());
      }
    }
    return "";
  }
}
