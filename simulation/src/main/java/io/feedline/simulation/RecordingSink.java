package io.feedline.simulation;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.span.TableSpans;
import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WriteGate;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The sink a simulated node opens for a changefeed: every write attempt goes to the changefeed's {@link Downstream}
 * after a seeded latency, as a round trip to a database would; a write still on its way when its node crashes never
 * arrives (the node's scheduler drops it), so nothing is durable until the sink answered. While faults are on, the
 * database may refuse a write (nothing applied), lose its answer after applying it (an ambiguous commit), or stall it
 * for seconds. Follows the sink close protocol through {@link WriteGate}.
 */
final class RecordingSink implements Sink {

  private final Downstream downstream;
  /** The writer each of this node's dispatchers is. */
  private final Function<DispatcherKey, Downstream.Writer> writers;
  private final Scheduler scheduler;
  private final Supplier<SinkFault> faults;
  private final Consumer<String> violations;
  /** Where every write attempt and its outcome goes: the seed's history. */
  private final Consumer<String> history;
  private final WriteGate gate;

  /** What happens to one write on its way: how long it takes, and whether the database refuses it or its answer is lost. */
  record SinkFault(long latencyMillis, boolean refused, boolean answerLost) {}

  RecordingSink(Downstream downstream, Function<DispatcherKey, Downstream.Writer> writers, Scheduler scheduler,
      Supplier<SinkFault> faults, Consumer<String> violations, Consumer<String> history) {
    this.history = history;
    this.downstream = downstream;
    this.writers = writers;
    this.scheduler = scheduler;
    this.faults = faults;
    this.violations = violations;
    this.gate = new WriteGate("sim://" + downstream.changefeed, Future::succeededFuture);
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    return gate.write(() -> {
      Promise<Void> done = Promise.promise();
      SinkFault fault = faults.get();
      Downstream.Writer writer = writers.apply(batch.dispatcher());
      String what = "write " + downstream.changefeed + " " + writer + " " + TableSpans.format(batch.span()) + " e" + batch.epoch() + " ("
          + batch.fromTs() + ", " + batch.resolvedTs() + "] " + batch.events().size() + " events";
      scheduler.schedule(fault.latencyMillis(), () -> {
        if (fault.refused()) {
          history.accept(what + ": refused by the database");
          done.fail(new IllegalStateException("simulated: the database refused the write (connection reset)"));
          return;
        }
        if (gate.closing()) {
          // As the PostgreSQL sink does: a close (the node's self-fence) stops a batch in flight before its COMMIT.
          history.accept(what + ": rolled back, the sink is closing");
          done.fail(gate.closed());
          return;
        }
        Downstream.Outcome outcome = downstream.apply(writer, batch);
        history.accept(what + (outcome.refusal().isPresent() ? ": fenced" : fault.answerLost() ? ": committed, answer lost" : ": committed"));
        outcome.violation().ifPresent(violations);
        if (fault.answerLost() && outcome.refusal().isEmpty()) {
          done.fail(new IllegalStateException("simulated: the connection broke before the commit was answered"));
          return;
        }
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
