package io.feedline.dispatcher.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.dispatcher.dataplane.DataLane;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Where an endpoint's blocking I/O runs when a data lane calls it: on its changefeed's own pool, so a sink
 * stuck in writes (every thread of that pool parked) holds neither the lane nor another changefeed. The
 * extension's Vert.x close undeploys the lanes.
 */
@ExtendWith(VertxExtension.class)
class BlockingIoTest {

  @Test
  void writesParkedByOneChangefeedLeaveTheLaneAndAnotherChangefeedFree(Vertx vertx, VertxTestContext test) {
    CountDownLatch release = new CountDownLatch(1);
    DataPlane.deploy(vertx, 1, 1 << 20, new SimpleMeterRegistry()).onComplete(test.succeeding(plane -> {
      DataLane lane = plane.lanes().get(0);
      WorkerExecutor stuck = lane.endpointContext().forChangefeed("stuck").blockingIo();
      WorkerExecutor other = lane.endpointContext().forChangefeed("other").blockingIo();
      lane.execute(() -> {
        // As a sink is called: from the lane, more parked writes than the stuck changefeed's pool has threads.
        for (int i = 0; i <= EndpointContext.BLOCKING_IO_THREADS; i++) {
          stuck.executeBlocking(() -> {
            release.await();
            return null;
          }, false);
        }
        other.executeBlocking(() -> Thread.currentThread().getName(), false).onComplete(test.succeeding(thread -> {
          test.verify(() -> assertThat(thread).startsWith(EndpointContext.BLOCKING_IO_POOL + "-other"));
          // The lane still runs tasks while the stuck changefeed's threads are parked.
          lane.execute(() -> {
            release.countDown();
            Future.all(stuck.close(), other.close()).onComplete(test.succeedingThenComplete());
          });
        }));
      });
    }));
  }

  @Test
  void vertxExecuteBlockingFromALaneWouldParkTheLanesOwnPool(Vertx vertx, VertxTestContext test) {
    // Why endpoints get blockingIo(): the lane is a worker context, and Vert.x runs its blocking code on the lane's pool.
    DataPlane.deploy(vertx, 1, 1 << 20, new SimpleMeterRegistry()).onComplete(test.succeeding(plane -> {
      DataLane lane = plane.lanes().get(0);
      lane.execute(() -> vertx.executeBlocking(() -> Thread.currentThread().getName(), false).onComplete(test.succeeding(thread -> {
        test.verify(() -> assertThat(thread).startsWith(DataPlane.WORKER_POOL));
        test.completeNow();
      })));
    }));
  }
}
