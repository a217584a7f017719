package io.feedline.dispatcher.sink;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Supplier;

/**
 * The close protocol every sink follows ({@link Sink#close}): once closing, writes are refused with
 * {@link WritePathClosedException}; the writes in flight finish; then the sink's resources are released,
 * once. Thread-safe: writes come from a data lane, a close may come from the manager's control context.
 */
public final class WriteGate {

  private final String sink;
  private final Supplier<Future<Void>> release;
  private int inFlight;
  private Promise<Void> closing;

  /**
   * @param sink what the sink is, for the refusal's message (never with secrets)
   * @param release frees the sink's resources; called once, after the last write in flight
   */
  public WriteGate(String sink, Supplier<Future<Void>> release) {
    this.sink = sink;
    this.release = release;
  }

  /** Runs {@code write} unless the sink is closing (then fails it); counts it in flight until it completes. */
  public Future<Void> write(Supplier<Future<Void>> write) {
    synchronized (this) {
      if (closing != null) {
        return Future.failedFuture(closed());
      }
      inFlight++;
    }
    Future<Void> written;
    try {
      written = write.get();
    } catch (RuntimeException e) {
      written = Future.failedFuture(e);
    }
    return written.andThen(done -> {
      Promise<Void> releaseNow = null;
      synchronized (this) {
        inFlight--;
        if (closing != null && inFlight == 0) {
          releaseNow = closing;
        }
      }
      if (releaseNow != null) {
        release(releaseNow);
      }
    });
  }

  /** Whether the sink is closing: a write in flight stops before it commits anything more. */
  public synchronized boolean closing() {
    return closing != null;
  }

  /** The refusal a write gets once the sink is closing. */
  public WritePathClosedException closed() {
    return new WritePathClosedException(sink);
  }

  /** Refuses further writes, waits for those in flight and releases the sink. Idempotent. */
  public Future<Void> close() {
    Promise<Void> releaseNow = null;
    Future<Void> closed;
    synchronized (this) {
      if (closing == null) {
        closing = Promise.promise();
        if (inFlight == 0) {
          releaseNow = closing;
        }
      }
      closed = closing.future();
    }
    if (releaseNow != null) {
      release(releaseNow);
    }
    return closed;
  }

  private void release(Promise<Void> done) {
    Future<Void> released;
    try {
      released = release.get();
    } catch (RuntimeException e) {
      released = Future.failedFuture(e);
    }
    released.onComplete(done);
  }
}
