package io.feedline.dispatcher.bench;

import com.google.protobuf.ByteString;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.dispatcher.DispatcherOrchestratorVerticle;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Request latency of the dispatcher orchestrator for many healthy changefeeds, with and without stalled
 * ones beside them: one whose sink never finishes closing (asked to close again every wave) and one
 * whose sink never finishes opening (its bootstrap and every later request wait on its lane). If
 * per-changefeed serialization holds, the two rows match.
 *
 * <p>A maintainer on another node id sends one re-bootstrap per healthy changefeed per wave over the
 * local event bus, all at once (as maintainers' resend ticks do), and times each until its response
 * arrives; a wave's latencies therefore include queueing behind the rest of the wave. The stalled
 * changefeeds get their own requests every wave too; "stalled answers" counts the stalled-close
 * changefeed's prompt "not yet" replies.
 *
 * <pre>java -jar feedline.jar bench head-of-line [--changefeeds 1000] [--iterations 100] [--warmup 30]</pre>
 */
public final class HeadOfLineBench {

  private static final NodeId NODE = NodeId.of("bench-dispatcher-node");
  private static final NodeId MAINTAINER = NodeId.of("bench-maintainer-node");
  private static final long EPOCH = 1;
  private static final String STALLED_CLOSE = "stalled-close";
  private static final String STALLED_OPEN = "stalled-open";

  /** One row of the result table. */
  public record Result(String scenario, int changefeeds, int requests, double p50Millis, double p99Millis, double maxMillis,
      double requestsPerSecond, int stalledAnswers) {}

  private HeadOfLineBench() {}

  /** The results as a table, with the machine's core count. */
  public static String table(List<Result> results) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "head-of-line bench: cores=%d (Runtime.availableProcessors)%n", Runtime.getRuntime().availableProcessors()));
    out.append(String.format(Locale.ROOT, "%-32s %11s %9s %9s %9s %9s %10s %15s%n",
        "scenario", "changefeeds", "requests", "p50 ms", "p99 ms", "max ms", "req/s", "stalled answers"));
    for (Result r : results) {
      out.append(String.format(Locale.ROOT, "%-32s %11d %9d %9.3f %9.3f %9.3f %10.0f %15d%n",
          r.scenario(), r.changefeeds(), r.requests(), r.p50Millis(), r.p99Millis(), r.maxMillis(), r.requestsPerSecond(), r.stalledAnswers()));
    }
    return out.toString();
  }

  public static Result run(int changefeeds, int iterations, int warmup, boolean withStalled) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("."), List.of(), false, "bench", null, "127.0.0.1", Timings.DEFAULTS);
      NodeContext node = new NodeContext(NODE, 1, config, null, null, null, null, new ControlBus(vertx, NODE, metrics), metrics);
      await(vertx.deployVerticle(new DispatcherOrchestratorVerticle(node, DispatcherOrchestratorVerticle.SessionLoss.NEVER, new StallingEndpoints())));

      Map<String, Long> sentAt = new ConcurrentHashMap<>();
      List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
      int[] stalledAnswers = {0};
      CountDownLatch[] wave = {null};
      ControlBus maintainer = new ControlBus(vertx, MAINTAINER, metrics);
      await(maintainer.register(Role.MAINTAINER_MANAGER, in -> {
        if (in.payload() instanceof MaintainerBootstrapResponse r) {
          Long sent = sentAt.remove(r.getChangefeedId());
          if (sent != null) {
            latencies.add(System.nanoTime() - sent);
            wave[0].countDown();
          }
        } else if (in.payload() instanceof MaintainerCloseResponse r && r.getChangefeedId().equals(STALLED_CLOSE) && !r.getSuccess()) {
          synchronized (stalledAnswers) {
            stalledAnswers[0]++;
          }
        }
      }));

      if (withStalled) {
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_CLOSE, "stall-close://"));
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setChangefeedId(STALLED_CLOSE).setEpoch(EPOCH).build());
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_OPEN, "stall-open://"));
      }
      List<Long> measured = new ArrayList<>();
      long measuredNanos = 0;
      for (int i = 0; i < warmup + iterations; i++) {
        latencies.clear();
        wave[0] = new CountDownLatch(changefeeds);
        long start = System.nanoTime();
        for (int c = 0; c < changefeeds; c++) {
          String cf = "cf-" + c;
          sentAt.put(cf, System.nanoTime());
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(cf, "blackhole://"));
        }
        if (withStalled) {
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setChangefeedId(STALLED_CLOSE).setEpoch(EPOCH).build());
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_OPEN, "stall-open://"));
        }
        if (!wave[0].await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("wave " + i + ": " + wave[0].getCount() + " of " + changefeeds + " requests unanswered after 60s");
        }
        if (i >= warmup) {
          measuredNanos += System.nanoTime() - start;
          synchronized (latencies) {
            measured.addAll(latencies);
          }
        }
      }
      if (measured.isEmpty()) {
        return null;
      }
      long[] sorted = measured.stream().mapToLong(Long::longValue).sorted().toArray();
      String scenario = withStalled ? "1 stalled close + 1 stalled open" : "all healthy";
      return new Result(scenario, changefeeds, sorted.length, millis(percentile(sorted, 0.50)), millis(percentile(sorted, 0.99)),
          millis(sorted[sorted.length - 1]), sorted.length / (measuredNanos / 1e9), stalledAnswers[0]);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static MaintainerBootstrapRequest bootstrap(String cf, String sink) {
    byte[] config = ChangefeedInfo.newBuilder().setId(cf).setSourceUri("datagen://?tables=1&rate=1").setSinkUri(sink).build().toByteArray();
    return MaintainerBootstrapRequest.newBuilder().setChangefeedId(cf).setEpoch(EPOCH).setConfig(ByteString.copyFrom(config)).build();
  }

  private static long percentile(long[] sorted, double p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }



  /** The real providers, plus {@code stall-close://} and {@code stall-open://} sinks that never finish. */
  private static final class StallingEndpoints implements Endpoints {
    private final ProviderEndpoints providers = new ProviderEndpoints();

    @Override
    public Future<Source> openSource(String uri, EndpointContext context) {
      return providers.openSource(uri, context);
    }

    @Override
    public Future<Sink> openSink(String uri, EndpointContext context) {
      return switch (uri) {
        case "stall-open://" -> Promise.<Sink>promise().future();
        case "stall-close://" -> Future.succeededFuture(new Sink() {
          @Override
          public Future<Void> write(SinkBatch batch) {
            return Future.succeededFuture();
          }

          @Override
          public Future<Void> close() {
            return Promise.<Void>promise().future();
          }
        });
        default -> providers.openSink(uri, context);
      };
    }
  }
}
