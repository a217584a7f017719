package io.feedline.common.metastore.sim;

import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreContractTest;
import io.feedline.common.time.ManualScheduler;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The metastore contract on the simulated store, on simulated time: every wait of the suite runs the scheduler,
 * so a lease TTL takes no wall-clock time. Latencies are seeded, so a failure replays as it happened.
 */
class SimulatedMetaStoreContractTest extends MetaStoreContractTest {

  /** How much simulated time one wait may take: far beyond any round trip of the latencies below. */
  private static final Duration WAIT_BOUND = Duration.ofSeconds(60);
  private static final long SEED = 20_260_101L;
  private static final long MAX_LATENCY_MILLIS = 5;

  private ManualScheduler scheduler;
  private SimulatedMetaStore server;

  @Override
  protected MetaStore openStore() {
    scheduler = new ManualScheduler(0);
    SplittableRandom random = new SplittableRandom(SEED);
    server = new SimulatedMetaStore(scheduler, () -> random.nextLong(MAX_LATENCY_MILLIS + 1));
    return server.client("contract");
  }

  @Override
  protected void compactThrough(long revision) {
    server.compact(revision);
  }

  /** Runs the scheduler a millisecond at a time until the future completes. */
  @Override
  protected <T> T await(Future<T> future) {
    long deadline = scheduler.nowMillis() + WAIT_BOUND.toMillis();
    scheduler.runDue();
    while (!future.isComplete() && scheduler.nowMillis() < deadline) {
      scheduler.advance(1);
    }
    if (!future.isComplete()) {
      throw new AssertionError("future did not complete within " + WAIT_BOUND + " of simulated time");
    }
    if (future.failed()) {
      throw new AssertionError("future failed: " + future.cause(), future.cause());
    }
    return future.result();
  }

  @Override
  protected void elapse(Duration duration) {
    scheduler.advance(duration.toMillis());
  }

  /** The simulation has one thread, the one that runs the scheduler: callers run in its tasks. */
  @Override
  protected Caller caller() {
    Thread simulation = Thread.currentThread();
    return new Caller() {
      @Override
      public void run(Runnable action) {
        scheduler.schedule(0, action);
      }

      @Override
      public boolean isCurrent() {
        return Thread.currentThread() == simulation;
      }
    };
  }
}
