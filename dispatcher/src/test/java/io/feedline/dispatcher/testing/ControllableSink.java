package io.feedline.dispatcher.testing;

import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;

/**
 * A sink whose writes and close complete only when the test says so (when held): a sink that takes
 * 10 s to close, without waiting 10 s.
 */
public final class ControllableSink implements Sink {

  private final List<SinkBatch> written = new ArrayList<>();
  private final List<Promise<Void>> heldWrites = new ArrayList<>();
  private boolean holdWrites;
  private boolean holdClose;
  private Promise<Void> closing;
  private boolean closed;

  public ControllableSink holdWrites() {
    holdWrites = true;
    return this;
  }

  public ControllableSink holdClose() {
    holdClose = true;
    return this;
  }

  /** Completes every held write (they become durable) and stops holding. */
  public void releaseWrites() {
    holdWrites = false;
    List.copyOf(heldWrites).forEach(Promise::tryComplete);
    heldWrites.clear();
  }

  public void releaseClose() {
    holdClose = false;
    if (closing != null) {
      closing.tryComplete();
    }
  }

  @Override
  public Future<Void> write(SinkBatch batch) {
    if (closed) {
      return Future.failedFuture(new WritePathClosedException("controllable sink"));
    }
    written.add(batch);
    if (!holdWrites) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    heldWrites.add(p);
    return p.future();
  }

  @Override
  public Future<Void> close() {
    closed = true;
    if (closing == null) {
      closing = Promise.promise();
      if (!holdClose) {
        closing.complete();
      }
    }
    return closing.future();
  }

  public boolean closeRequested() {
    return closed;
  }

  public List<SinkBatch> written() {
    return List.copyOf(written);
  }

  public int heldWriteCount() {
    return heldWrites.size();
  }
}
