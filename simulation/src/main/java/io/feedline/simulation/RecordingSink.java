package io.feedline.simulation;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WriteGate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The sink a simulated node opens for a changefeed: every write attempt goes to the changefeed's {@link Downstream}
 * after a seeded latency, as a round trip to a database would; a write still on its way when its node crashes never
 * arrives (the node's scheduler drops it), so nothing is durable until the sink answered. Follows the sink close
 * protocol through {@link WriteGate}.
 */
final class RecordingSink implements Sink {

  private final Downstream downstream;
  private final Downstream.Writer.Factory writers;
  private final Scheduler scheduler;
  private final LongSupplier latency;
  private final Consumer<String> violations;
  private final WriteGate gate;

  RecordingSink(Downstream downstream, Downstream.Writer.Factory writers, Scheduler scheduler, LongSupplier latency,
      Consumer<String> violations) {
    this.downstream = downstream;
    this.writers = writers;
    this.scheduler = scheduler;
    this.latency = latency;
    this.violations = violations;
    this.gate = new WriteGate("sim://" + downstream.changefeed, Future::succeededFuture);
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    return gate.write(() -> {
      Promise<Void> done = Promise.promise();
      scheduler.schedule(latency.getAsLong(), () -> {
        Downstream.Outcome outcome = downstream.apply(writers.of(batch.dispatcher()), batch);
        outcome.violation().ifPresent(violations);
        outcome.refusal().ifPresentOrElse(done::fail, done::complete);
      });
      return done.future();
    });
  }

  @Override
  public Future<Void> close() {
    return gate.close();
  }
}
