package io.feedline.bench;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin
  BenchRuns runs;

  @Override
  public Integer call() throws Exception {
    runs.count(); // a usage error before any work
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
      bumpEach(registry, ids); // a discarded warm-up of both modes
      String setup = "store: " + (etcd != null ? "etcd " + etcd : "embedded") + ", " + changefeeds + " changefeeds bumped one at a time "
          + "(a read and a compare-and-set each), then in one batch; after one discarded warm-up";
      int result = runs.measure("epoch-bumps", setup, run -> bumpEach(registry, ids));
      for (ChangefeedId id : ids) {
        await(registry.load(id).compose(r -> r.map(registry::delete).orElse(Future.succeededFuture())));
      }
      return result;
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

  /** Bumps every changefeed once singly and once more in one batch: the two modes' rates. */
  private Map<String, Double> bumpEach(ChangefeedStore registry, List<ChangefeedId> ids) throws Exception {
    long start = System.nanoTime();
    for (ChangefeedId id : ids) {
      await(registry.bump(EpochBump.of(id, 1)));
    }
    double single = (System.nanoTime() - start) / 1e9;
    start = System.nanoTime();
    List<ChangefeedStore.BumpResult> results = await(registry.bumpAll(ids.stream().map(id -> EpochBump.of(id, 1)).toList()));
    double batched = (System.nanoTime() - start) / 1e9;
    if (results.stream().anyMatch(r -> !r.succeeded())) {
      throw new IllegalStateException("a batched bump failed: " + results.stream().filter(r -> !r.succeeded()).findFirst().orElseThrow().error());
    }
    Map<String, Double> figures = new LinkedHashMap<>();
    figures.put("single_bumps_per_s", ids.size() / single);
    figures.put("batched_bumps_per_s", ids.size() / batched);
    figures.put("single_total_ms", single * 1000);
    figures.put("batched_total_ms", batched * 1000);
    return figures;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
  }
}
