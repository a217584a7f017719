package io.feedline.dispatcher.dispatcher;

import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Replicates one span: pulls a batch from the source, writes it to the sink, and only once the sink
 * reports it durable advances the checkpoint to the batch's resolved ts; then pulls the next. One batch
 * in flight at a time is the backpressure. Runs on the dispatcher manager's context; every pull is a
 * scheduler task of its own, so a source that answers synchronously cannot recurse.
 *
 * <p>It reports what happens to a {@link Listener}; the state it is in (Initializing, Working, Stopped)
 * is the manager's to keep.
 */
public final class Dispatcher {

  /** What the manager hears from a dispatcher, on the manager's context. */
  public interface Listener {
    /** Subscribed: the dispatcher is writing. */
    void working(DispatcherRef ref);

    /** Everything up to {@code checkpointTs} is durable downstream. */
    void progressed(DispatcherRef ref, long checkpointTs, long resolvedTs);

    /** Stopped on its own: the source or the sink failed. Not called after {@link #stop()}. */
    void failed(DispatcherRef ref, Throwable cause);
  }

  private enum Phase {
    NEW,
    SUBSCRIBING,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private final DispatcherSpec spec;
  private final Source source;
  private final Sink sink;
  private final Scheduler scheduler;
  private final Listener listener;
  private final int batchRows;
  private final Promise<Void> stopped = Promise.promise();
  private Phase phase = Phase.NEW;
  private SourceSubscription subscription;
  /** A pull or a write is outstanding; stopping waits for it so no write lands after Stopped is reported. */
  private boolean busy;

  public Dispatcher(DispatcherSpec spec, Source source, Sink sink, Scheduler scheduler, Listener listener, int batchRows) {
    this.spec = spec;
    this.source = source;
    this.sink = sink;
    this.scheduler = scheduler;
    this.listener = listener;
    this.batchRows = batchRows;
  }

  public void start() {
    if (phase != Phase.NEW) {
      return;
    }
    phase = Phase.SUBSCRIBING;
    Future<SourceSubscription> subscribed;
    try {
      subscribed = source.subscribe(spec.span(), spec.startTs());
    } catch (RuntimeException e) {
      subscribed = Future.failedFuture(e);
    }
    subscribed.onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
        return;
      }
      subscription = ar.result();
      if (phase == Phase.STOPPING) {
        finishStop();
        return;
      }
      phase = Phase.RUNNING;
      listener.working(spec.ref());
      scheduler.schedule(0, this::pull);
    });
  }

  /** Stops pulling; completes once no write is in flight. Idempotent. */
  public Future<Void> stop() {
    switch (phase) {
      case NEW -> finishStop();
      case RUNNING -> {
        phase = Phase.STOPPING;
        subscription.cancel();
        if (!busy) {
          finishStop();
        }
      }
      case SUBSCRIBING -> phase = Phase.STOPPING;
      default -> {
        // STOPPING or STOPPED: the first stop is already under way.
      }
    }
    return stopped.future();
  }

  private void pull() {
    if (phase != Phase.RUNNING) {
      return;
    }
    busy = true;
    subscription.next(batchRows).compose(this::write).onComplete(ar -> {
      busy = false;
      if (phase == Phase.STOPPING) {
        finishStop();
      } else if (ar.failed()) {
        fail(ar.cause());
      } else {
        scheduler.schedule(0, this::pull);
      }
    });
  }

  private Future<Void> write(ChangeBatch batch) {
    if (batch.events().isEmpty()) {
      // Nothing to make durable: the checkpoint may move up to the resolved ts at once.
      listener.progressed(spec.ref(), batch.resolvedTs(), batch.resolvedTs());
      return Future.succeededFuture();
    }
    Future<Void> written;
    try {
      written = sink.write(new SinkBatch(spec.ref(), spec.span(), spec.redo(), batch.events(), batch.resolvedTs()));
    } catch (RuntimeException e) {
      written = Future.failedFuture(e);
    }
    return written.onSuccess(v -> listener.progressed(spec.ref(), batch.resolvedTs(), batch.resolvedTs()));
  }

  private void fail(Throwable cause) {
    if (phase == Phase.STOPPING || phase == Phase.STOPPED) {
      finishStop();
      return;
    }
    phase = Phase.STOPPED;
    if (subscription != null) {
      subscription.cancel();
    }
    stopped.tryComplete();
    listener.failed(spec.ref(), cause);
  }

  private void finishStop() {
    if (subscription != null) {
      subscription.cancel();
    }
    phase = Phase.STOPPED;
    stopped.tryComplete();
  }
}
