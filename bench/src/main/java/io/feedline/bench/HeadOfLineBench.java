package io.feedline.bench;

import com.google.protobuf.ByteString;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.dispatcher.DispatcherOrchestratorVerticle;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Request latency of the dispatcher orchestrator for many healthy changefeeds, and the write rate of one
 * healthy changefeed's data, with and without stalled changefeeds beside them: one whose sink never
 * finishes closing (asked to close again every wave), one whose sink never finishes opening (its bootstrap
 * and every later request wait on its lane), and one whose sink really blocks its write path: each of its
 * {@value #BLOCKED_SPANS} dispatchers writes into a sink whose blocking call parks a thread until the run ends
 * (a JDBC sink stuck behind a row lock, a hung mount). If per-changefeed isolation holds, on the control path
 * (lanes of requests) and on the data path (the data lanes, whose worker pool the blocked changefeed shares
 * with the healthy one), the two scenarios match.
 *
 * <p>A maintainer on another node id sends one re-bootstrap per healthy changefeed per wave over the
 * local event bus, all at once (as maintainers' resend ticks do), and times each until its response
 * arrives; a wave's latencies therefore include queueing behind the rest of the wave. The stalled
 * changefeeds get their own requests every wave too; "stalled answers" counts the stalled-close
 * changefeed's prompt "not yet" replies. The same maintainer lets the data changefeeds' dispatchers write
 * every DDL they block at, so that only a stall can stop them.
 *
 * <pre>java -jar feedline.jar bench head-of-line [--changefeeds 1000] [--iterations 100] [--warmup 30] [--runs 3] [-o json]</pre>
 */
public final class HeadOfLineBench {

  private static final NodeId NODE = NodeId.of("bench-dispatcher-node");
  private static final NodeId MAINTAINER = NodeId.of("bench-maintainer-node");
  private static final long EPOCH = 1;
  private static final String STALLED_CLOSE = "stalled-close";
  private static final String STALLED_OPEN = "stalled-open";
  private static final String BLOCKED_WRITE = "blocked-write";
  private static final String HEALTHY_DATA = "healthy-data";
  /** Spans of the blocked-write changefeed: more than its blocking I/O pool has threads, so writes also queue. */
  public static final int BLOCKED_SPANS = 32;
  /** Spans of the healthy data changefeed, written beside the stalls. */
  public static final int HEALTHY_DATA_SPANS = 4;

  /**
   * One scenario's figures. {@code dataEventsPerSecond}: events the healthy data changefeed wrote per second
   * while the waves ran; {@code blockedWrites}: writes the blocked-write sink held parked when they ended.
   */
  public record Result(double p50Millis, double p99Millis, double maxMillis, double requestsPerSecond, int stalledAnswers,
      double dataEventsPerSecond, int blockedWrites) {}

  private HeadOfLineBench() {}

  public static Result run(int changefeeds, int iterations, int warmup, boolean withStalled) throws Exception {
    Vertx vertx = Vertx.vertx();
    StallingEndpoints endpoints = new StallingEndpoints();
    try {
      SimpleMeterRegistry metrics = new SimpleMeterRegistry();
      NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("."), List.of(), false, "bench", null, "127.0.0.1", Timings.DEFAULTS);
      NodeContext node = new NodeContext(NODE, 1, config, null, null, null, null, new ControlBus(vertx, NODE, metrics), metrics);
      await(vertx.deployVerticle(new DispatcherOrchestratorVerticle(node, DispatcherOrchestratorVerticle.SessionLoss.NEVER, endpoints)));

      Map<String, Long> sentAt = new ConcurrentHashMap<>();
      List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
      AtomicInteger stalledAnswers = new AtomicInteger();
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
          stalledAnswers.incrementAndGet();
        } else if (in.payload() instanceof BlockStatusRequest r) {
          writeEveryWaitingDdl(maintainer, r);
        }
      }));

      long now = System.currentTimeMillis() << TimestampOracle.LOGICAL_BITS;
      start(maintainer, HEALTHY_DATA, "count-write://", HEALTHY_DATA_SPANS, now);
      awaitTrue("the healthy data changefeed writing", () -> endpoints.healthyEvents.sum() > 0);
      if (withStalled) {
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_CLOSE, "stall-close://", 1));
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setChangefeedId(STALLED_CLOSE).setEpoch(EPOCH).build());
        maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_OPEN, "stall-open://", 1));
        start(maintainer, BLOCKED_WRITE, "block-write://", BLOCKED_SPANS, now);
        awaitTrue("every thread of the blocked changefeed's I/O pool parked in a write",
            () -> endpoints.blockedWrites.get() >= EndpointContext.BLOCKING_IO_THREADS);
      }
      List<Long> measured = new ArrayList<>();
      long measuredNanos = 0;
      long measuredEvents = 0;
      for (int i = 0; i < warmup + iterations; i++) {
        latencies.clear();
        wave[0] = new CountDownLatch(changefeeds);
        long start = System.nanoTime();
        long eventsBefore = endpoints.healthyEvents.sum();
        for (int c = 0; c < changefeeds; c++) {
          String cf = "cf-" + c;
          sentAt.put(cf, System.nanoTime());
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(cf, "blackhole://", 1));
        }
        if (withStalled) {
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, MaintainerCloseRequest.newBuilder().setChangefeedId(STALLED_CLOSE).setEpoch(EPOCH).build());
          maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(STALLED_OPEN, "stall-open://", 1));
        }
        if (!wave[0].await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("wave " + i + ": " + wave[0].getCount() + " of " + changefeeds + " requests unanswered after 60s");
        }
        if (i >= warmup) {
          measuredNanos += System.nanoTime() - start;
          measuredEvents += endpoints.healthyEvents.sum() - eventsBefore;
          synchronized (latencies) {
            measured.addAll(latencies);
          }
        }
      }
      if (measured.isEmpty()) {
        return null;
      }
      long[] sorted = measured.stream().mapToLong(Long::longValue).sorted().toArray();
      double seconds = measuredNanos / 1e9;
      return new Result(millis(percentile(sorted, 0.50)), millis(percentile(sorted, 0.99)),
          millis(sorted[sorted.length - 1]), sorted.length / seconds, stalledAnswers.get(), measuredEvents / seconds,
          endpoints.blockedWrites.get());
    } finally {
      // The parked writes end first: a thread blocked for good would hold the Vert.x instance open.
      endpoints.release.countDown();
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Bootstraps {@code cf} and starts one dispatcher per table, from {@code startTs}. */
  private static void start(ControlBus maintainer, String cf, String sink, int tables, long startTs) {
    maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, bootstrap(cf, sink, tables));
    ScheduleDispatcherRequest.Builder request = ScheduleDispatcherRequest.newBuilder().setChangefeedId(cf).setEpoch(EPOCH);
    for (int table = 1; table <= tables; table++) {
      request.addItems(DispatcherSchedule.newBuilder().setId(new DispatcherKey(cf.hashCode(), table).proto())
          .setSpan(TableSpan.newBuilder().setTableId(table)).setStartTs(startTs)
          .setAction(ScheduleAction.SCHEDULE_ACTION_CREATE).setOperatorType(OperatorType.OPERATOR_TYPE_ADD));
    }
    maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, request.build());
  }

  /** The maintainer's part of the DDL barrier, reduced to one table per span: every DDL a span waits at is written. */
  private static void writeEveryWaitingDdl(ControlBus maintainer, BlockStatusRequest request) {
    HeartbeatResponse.Builder response = HeartbeatResponse.newBuilder().setChangefeedId(request.getChangefeedId()).setEpoch(request.getEpoch());
    for (SpanBlockStatus status : request.getStatusesList()) {
      BlockState state = status.getState();
      if (state.getBlocked() && state.getStage() == BlockStage.BLOCK_STAGE_WAITING) {
        response.addActions(DispatcherAction.newBuilder().setAction(BarrierAction.BARRIER_ACTION_WRITE).setCommitTs(state.getBlockTs())
            .setInfluenced(state.getBlockedTables()));
      }
    }
    if (response.getActionsCount() > 0) {
      maintainer.send(NODE, Role.DISPATCHER_ORCHESTRATOR, response.build());
    }
  }

  private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not reached within 60s: " + what);
      }
      Thread.sleep(10);
    }
  }

  /** A changefeed of datagen tables at 1,000 upstream ticks per second. */
  private static MaintainerBootstrapRequest bootstrap(String cf, String sink, int tables) {
    byte[] config = ChangefeedInfo.newBuilder().setId(cf).setSourceUri("datagen://?tables=" + tables + "&rate=1000").setSinkUri(sink)
        .build().toByteArray();
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



  /**
   * The real providers, plus {@code stall-close://} and {@code stall-open://} sinks that never finish, a
   * {@code block-write://} sink whose every write parks a thread of its changefeed's blocking I/O pool until
   * {@link #release}, and a {@code count-write://} sink that counts the events written.
   */
  private static final class StallingEndpoints implements Endpoints {
    private final ProviderEndpoints providers = new ProviderEndpoints();
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger blockedWrites = new AtomicInteger();
    private final LongAdder healthyEvents = new LongAdder();

    @Override
    public Future<Source> openSource(String uri, EndpointContext context) {
      return providers.openSource(uri, context);
    }

    @Override
    public Future<Sink> openSink(String uri, EndpointContext context) {
      return switch (uri) {
        case "stall-open://" -> Promise.<Sink>promise().future();
        case "stall-close://" -> Future.succeededFuture(new OpenSink(batch -> Future.succeededFuture(), () -> Promise.<Void>promise().future()));
        case "count-write://" -> Future.succeededFuture(new OpenSink(batch -> {
          healthyEvents.add(batch.events().size());
          return Future.succeededFuture();
        }, Future::succeededFuture));
        case "block-write://" -> {
          WorkerExecutor io = context.blockingIo();
          yield Future.succeededFuture(new OpenSink(batch -> io.executeBlocking(() -> {
            blockedWrites.incrementAndGet();
            try {
              release.await();
            } finally {
              blockedWrites.decrementAndGet();
            }
            return null;
          }, false), io::close));
        }
        default -> providers.openSink(uri, context);
      };
    }
  }

  /** A sink of two functions. */
  private record OpenSink(Function<SinkBatch, Future<Void>> writes, Supplier<Future<Void>> closes) implements Sink {
    @Override
    public Future<Void> write(SinkBatch batch) {
      return writes.apply(batch);
    }

    @Override
    public Future<Void> close() {
      return closes.get();
    }
  }
}
