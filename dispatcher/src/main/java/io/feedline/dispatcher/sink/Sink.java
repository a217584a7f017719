package io.feedline.dispatcher.sink;

import io.vertx.core.Future;

/**
 * A downstream. One instance per dispatcher manager (changefeed on a node), shared by its dispatchers,
 * which call {@link #write} from the changefeed's data lane; implementations keep blocking I/O off that
 * lane, on {@link io.feedline.dispatcher.endpoint.EndpointContext#blockingIo()}. {@link #close} may come
 * from another thread (the manager's control context, so that a self-fence takes effect at once) and must
 * be thread-safe.
 */
public interface Sink {

  /**
   * Writes a batch of one span and records {@link SinkBatch#resolvedTs()} as that span's checkpoint. The
   * future completes only once both are durable: a dispatcher advances its checkpoint on completion,
   * so the checkpoint never passes an event that is not written (DESIGN §9.4). After {@link #close}
   * it fails with {@link WritePathClosedException}; a sink that keeps a fencing token per span fails a
   * write whose {@link SinkBatch#epoch()} is below the span's token with {@link FencedWriteException}.
   */
  Future<Void> write(SinkBatch batch);

  /** Refuses further writes, waits for those in flight and releases the sink. Idempotent. */
  Future<Void> close();
}
