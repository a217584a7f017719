package io.feedline.node.bench;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.Coordinator;
import io.feedline.coordinator.CoordinatorVerticle;
import io.feedline.node.NodeRuntime;
import io.feedline.proto.ChangefeedInfo;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How long draining a node takes: three clustered nodes in this JVM on a real etcd, {@code --changefeeds}
 * changefeeds placed evenly, then one node that does not lead is drained until nothing remains (asked
 * every 50 ms, as the CLI does every second). Today's maintainers are placeholders that own no
 * dispatchers, so the figure is the maintainer part of a drain (moves, epoch bumps, acknowledgements,
 * STOPPING); the dispatcher part needs the real maintainer.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = "Time to drain one of three in-JVM nodes hosting a third of the changefeeds' maintainers.")
public final class DrainBench implements Callable<Integer> {

  @Option(names = "--etcd", required = true, paramLabel = "URL", description = "etcd endpoint (the nodes form a cluster on it).")
  String etcd;

  @Option(names = "--changefeeds", defaultValue = "300", description = "Changefeeds (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--hazelcast-config", defaultValue = "conf/hazelcast.xml", description = "Hazelcast XML (default ${DEFAULT-VALUE}).")
  Path hazelcastConfig;

  @Override
  public Integer call() throws Exception {
    System.setProperty("hazelcast.wait.seconds.before.join", "0");
    System.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    String clusterId = "benchdrain" + UUID.randomUUID().toString().substring(0, 8);
    Path dir = Files.createTempDirectory("feedline-bench-drain");
    Timings timings = Timings.fromMap(Map.of("session-ttl", Duration.ofSeconds(5)));
    List<NodeRuntime> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        nodes.add(await(NodeRuntime.start(new NodeConfig("127.0.0.1", 0, dir.resolve("n" + i), List.of(etcd), true, clusterId,
            hazelcastConfig, "127.0.0.1", timings, changefeeds, NodeConfig.DEFAULT_FAILED_AFTER, ""))));
      }
      NodeRuntime leader = awaitLeader(nodes);
      for (int i = 0; i < changefeeds; i++) {
        String id = "cf-" + i;
        onCoordinator(leader, c -> c.create(ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1").setSinkUri("blackhole://").build()));
      }
      NodeRuntime drained = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      Map<ChangefeedId, NodeId> owners;
      do {
        Thread.sleep(50);
        owners = onCoordinator(leader, c -> Future.succeededFuture(c.maintainers()));
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("placed only " + owners.size() + " of " + changefeeds + " changefeeds");
        }
      } while (owners.size() < changefeeds);
      long onDrained = owners.values().stream().filter(drained.nodeId()::equals).count();

      long start = System.nanoTime();
      long remaining = onCoordinator(leader, c -> c.drain(drained.nodeId())).remaining();
      while (remaining > 0) {
        Thread.sleep(50);
        remaining = onCoordinator(leader, c -> c.drain(drained.nodeId())).remaining();
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("drain not done within 5 min: " + remaining + " left");
        }
      }
      double ms = (System.nanoTime() - start) / 1e6;
      System.out.println(BenchCommand.machine());
      System.out.println("store: etcd " + etcd + ", 3 clustered nodes in one JVM, placeholder maintainers (no dispatchers)");
      System.out.printf("%12s %22s %12s %18s%n", "changefeeds", "maintainers_on_target", "drain_ms", "maintainers_per_s");
      System.out.printf("%12d %22d %12.0f %18.0f%n", changefeeds, onDrained, ms, onDrained / (ms / 1000));
      return 0;
    } finally {
      for (NodeRuntime n : nodes) {
        n.stop().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> null).join();
      }
    }
  }

  private static NodeRuntime awaitLeader(List<NodeRuntime> nodes) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (NodeRuntime n : nodes) {
        CoordinatorVerticle role = n.coordinatorRole();
        Promise<Boolean> ready = Promise.promise();
        role.context().runOnContext(v -> ready.complete(role.coordinator().map(Coordinator::bootstrapped).orElse(false)));
        if (await(ready.future())) {
          return n;
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no coordinator elected within 60 s");
  }

  private static <T> T onCoordinator(NodeRuntime node, Function<Coordinator, Future<T>> action) throws Exception {
    CoordinatorVerticle role = node.coordinatorRole();
    Promise<T> done = Promise.promise();
    role.context().runOnContext(v -> {
      Optional<Coordinator> c = role.coordinator();
      (c.isPresent() ? action.apply(c.get()) : Future.<T>failedFuture("not the coordinator")).onComplete(done);
    });
    return await(done.future());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
  }
}
