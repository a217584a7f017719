package io.feedline.dispatcher.sink.blackhole;

import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.vertx.core.Future;

/** {@code blackhole://}: every write is durable at once and goes nowhere. */
public final class BlackholeSink implements Sink {

  /** Closed from the control context, read on the lane. */
  private volatile boolean closed;

  @Override
  public Future<Void> write(SinkBatch batch) {
    if (closed) {
      return Future.failedFuture(new WritePathClosedException("blackhole sink"));
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> close() {
    closed = true;
    return Future.succeededFuture();
  }
}
