package io.feedline.node.bench;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.EpochBump;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How long N epoch bumps take, one changefeed at a time (each a read and a compare-and-set) versus
 * batched ({@link ChangefeedStore#bumpAll}), as a mass failover does.
 */
@Command(name = "epoch-bumps", mixinStandardHelpOptions = true, description = "Epoch bumps per second, single and batched.")
public final class EpochBumpBench implements Callable<Integer> {

  @Option(names = "--etcd", paramLabel = "URL", description = "etcd endpoint (default: the embedded store in a temp dir).")
  String etcd;

  @Option(names = "--changefeeds", defaultValue = "1000", description = "Changefeeds to bump (default ${DEFAULT-VALUE}).")
  int changefeeds;

  @Option(names = "--rounds", defaultValue = "3", description = "Measured rounds per mode, after one warm-up (default ${DEFAULT-VALUE}).")
  int rounds;

  @Override
  public Integer call() throws Exception {
    Vertx vertx = Vertx.vertx();
    Path dir = null;
    MetaStore store;
    if (etcd != null) {
      store = MetaStores.etcd(vertx, List.of(etcd));
    } else {
      dir = Files.createTempDirectory("feedline-bench");
      store = await(MetaStores.embedded(vertx, dir));
    }
    try {
      MetaKeys keys = new MetaKeys("bench" + UUID.randomUUID().toString().substring(0, 8));
      ChangefeedStore registry = new ChangefeedStore(store, keys);
      List<ChangefeedId> ids = new ArrayList<>();
      for (int i = 0; i < changefeeds; i++) {
        ChangefeedId id = ChangefeedId.of("cf-" + i);
        ids.add(id);
        await(registry.create(ChangefeedInfo.newBuilder().setId(id.value()).setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).build(),
            ChangefeedStatus.newBuilder().setCheckpointTs(1).build()));
      }
      System.out.println(BenchCommand.machine());
      System.out.println("store: " + (etcd != null ? "etcd " + etcd : "embedded"));
      System.out.printf("%-10s %12s %10s %12s %14s%n", "mode", "changefeeds", "round", "total_ms", "bumps_per_s");
      long candidate = 1;
      for (int round = 0; round <= rounds; round++) {
        long start = System.nanoTime();
        for (ChangefeedId id : ids) {
          await(registry.bump(EpochBump.of(id, candidate)));
        }
        report("single", round, start);
        start = System.nanoTime();
        List<ChangefeedStore.BumpResult> results = await(registry.bumpAll(ids.stream().map(id -> EpochBump.of(id, 1)).toList()));
        if (results.stream().anyMatch(r -> !r.succeeded())) {
          throw new IllegalStateException("a batched bump failed: " + results.stream().filter(r -> !r.succeeded()).findFirst().orElseThrow().error());
        }
        report("batched", round, start);
      }
      System.out.println("(round 0 is the warm-up)");
      for (ChangefeedId id : ids) {
        await(registry.load(id).compose(r -> r.map(registry::delete).orElse(Future.succeededFuture())));
      }
      return 0;
    } finally {
      await(store.close());
      await(vertx.close());
      if (dir != null) {
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  private void report(String mode, int round, long startNanos) {
    double ms = (System.nanoTime() - startNanos) / 1e6;
    System.out.printf("%-10s %12d %10s %12.1f %14.0f%n", mode, changefeeds, round == 0 ? "warm-up" : Integer.toString(round), ms, changefeeds / (ms / 1000));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
  }
}
