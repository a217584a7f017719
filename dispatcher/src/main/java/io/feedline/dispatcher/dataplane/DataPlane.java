package io.feedline.dispatcher.dataplane;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.time.Scheduler;
import io.feedline.common.time.VertxScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * A node's data plane: the data lanes (one context each on the {@link #WORKER_POOL} worker pool, one
 * thread per lane) and the memory quota their reads share. A changefeed opened on the node joins the lane
 * with the fewest changefeeds; its source, sink and dispatchers run there, never on a control context.
 *
 * <p>Meters: {@code feedline_dataplane_memory_quota_bytes}, {@code feedline_dataplane_memory_used_bytes},
 * {@code feedline_dataplane_memory_waits_total} (a changefeed sat out for lack of memory), and per
 * changefeed on this node {@code feedline_sink_events_total} and {@code feedline_sink_bytes_total} (events
 * the sink acknowledged, and their weight as the quota counts it).
 */
public final class DataPlane {

  /** The worker pool the lanes run on, apart from the event loops the control roles use. */
  public static final String WORKER_POOL = "feedline-data";

  private final List<DataLane> lanes;
  private final MemoryQuota quota;
  private final MeterRegistry metrics;
  /** Undeploys the lanes; nothing for a data plane on a test's scheduler. */
  private final Supplier<Future<Void>> undeploy;

  private DataPlane(List<DataLane> lanes, MemoryQuota quota, MeterRegistry metrics, Supplier<Future<Void>> undeploy) {
    this.lanes = List.copyOf(lanes);
    this.quota = quota;
    this.metrics = metrics;
    this.undeploy = undeploy;
  }

  /**
   * Deploys {@code threads} lanes on their own worker pool and registers the node's data-plane meters. The
   * future completes on the calling context. The lanes are not the caller's children (Vert.x undeploys
   * children before their parent stops, and the caller must close what runs on them first): the caller
   * {@link #close}s the data plane after its changefeeds.
   */
  public static Future<DataPlane> deploy(Vertx vertx, int threads, long memoryQuotaBytes, MeterRegistry metrics) {
    Context caller = vertx.getOrCreateContext();
    Queue<Context> contexts = new ConcurrentLinkedQueue<>();
    DeploymentOptions options = new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setWorkerPoolName(WORKER_POOL)
        .setWorkerPoolSize(threads).setInstances(threads);
    Promise<DataPlane> deployed = Promise.promise();
    // Deployed from a thread outside Vert.x: a deployment made on a verticle's context would be its child.
    ForkJoinPool.commonPool().execute(() -> vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        contexts.add(context);
        return Future.succeededFuture();
      }
    }, options).onComplete(ar -> caller.runOnContext(v -> {
      if (ar.failed()) {
        deployed.fail(ar.cause());
        return;
      }
      Counter waits = waitsCounter(metrics);
      List<DataLane> lanes = new ArrayList<>();
      for (Context context : contexts) {
        lanes.add(new DataLane(lanes.size(), vertx, new VertxScheduler(vertx, context, Clock.systemUTC()), System::nanoTime, waits, metrics));
      }
      deployed.complete(create(lanes, memoryQuotaBytes, metrics, () -> vertx.undeploy(ar.result())));
    })));
    return deployed.future();
  }

  /**
   * One lane on {@code scheduler}'s context: for tests and the simulator, which drive time by hand. A task's turns are
   * bounded by the scheduler's time, so the same inputs take the same turns.
   */
  public static DataPlane onScheduler(Scheduler scheduler, long memoryQuotaBytes, MeterRegistry metrics) {
    DataLane lane = new DataLane(0, null, scheduler, () -> scheduler.nowMillis() * 1_000_000, waitsCounter(metrics), metrics);
    return create(List.of(lane), memoryQuotaBytes, metrics, Future::succeededFuture);
  }

  private static DataPlane create(List<DataLane> lanes, long memoryQuotaBytes, MeterRegistry metrics, Supplier<Future<Void>> undeploy) {
    MemoryQuota quota = new MemoryQuota(memoryQuotaBytes);
    Gauge.builder("feedline.dataplane.memory.quota", quota, MemoryQuota::limit).baseUnit("bytes")
        .description("Bytes of change events this node may hold between reading and the sink's acknowledgement").register(metrics);
    Gauge.builder("feedline.dataplane.memory.used", quota, MemoryQuota::used).baseUnit("bytes")
        .description("Bytes of change events read and not yet acknowledged by a sink").register(metrics);
    return new DataPlane(lanes, quota, metrics, undeploy);
  }

  /** Stops the lanes' threads. Close the changefeeds on them first. */
  public Future<Void> close() {
    return undeploy.get();
  }

  private static Counter waitsCounter(MeterRegistry metrics) {
    return Counter.builder("feedline.dataplane.memory.waits")
        .description("Times a changefeed's reads paused because its share of the memory quota was in use").register(metrics);
  }

  public MemoryQuota quota() {
    return quota;
  }

  public List<DataLane> lanes() {
    return lanes;
  }

  /**
   * A changefeed's place on this node's data plane: the lane with the fewest changefeeds and an account of
   * the memory quota. Close the tenant (on its lane) when the changefeed leaves the node.
   */
  public DataLane.Tenant join(ChangefeedId changefeed) {
    DataLane lane = lanes.stream().min(Comparator.comparingInt(DataLane::tenantCount)).orElseThrow();
    Counter events = Counter.builder("feedline.sink.events").tag("changefeed", changefeed.value())
        .description("Change events the sink acknowledged, of this changefeed's spans on this node").register(metrics);
    Counter bytes = Counter.builder("feedline.sink.bytes").tag("changefeed", changefeed.value()).baseUnit("bytes")
        .description("Weight of the change events the sink acknowledged, as the memory quota counts it").register(metrics);
    return lane.tenant(quota.open(changefeed.value()), events, bytes, () -> {
      metrics.remove(events);
      metrics.remove(bytes);
    });
  }
}
