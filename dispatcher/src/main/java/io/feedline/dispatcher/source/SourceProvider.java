package io.feedline.dispatcher.source;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.proto.PositionKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * A kind of source, found through {@link java.util.ServiceLoader} and chosen by URI scheme. Listed in
 * {@code META-INF/services/io.feedline.dispatcher.source.SourceProvider}.
 */
public interface SourceProvider {

  String scheme();

  /** Opens a source; a bad URI fails the future with an {@link io.feedline.dispatcher.endpoint.InvalidEndpointException}. */
  Future<Source> open(EndpointUri uri, EndpointContext context);

  /** What this source's commit positions are: TSO timestamps (the default), or positions of its own. */
  default PositionKind positions() {
    return PositionKind.POSITION_KIND_TSO;
  }

  /**
   * Readies the upstream for a new changefeed before the changefeed is created (what it must keep or
   * create upstream), refusing with an {@link io.feedline.dispatcher.endpoint.InvalidEndpointException} that
   * says what to change when the upstream cannot serve it. Idempotent: a retried create calls it again.
   * Blocking work runs on {@code vertx}'s worker pool; the future completes on the caller's context.
   *
   * @param requestedStart the user's start position, 0 for none
   * @return the changefeed's start position; 0 lets the cluster choose (the TSO's now, for a TSO source)
   */
  default Future<Long> prepare(EndpointUri uri, String changefeed, long requestedStart, Vertx vertx) {
    return Future.succeededFuture(requestedStart);
  }

  /** Drops what {@link #prepare} kept upstream, once the changefeed is removed. Idempotent. */
  default Future<Void> release(EndpointUri uri, String changefeed, Vertx vertx) {
    return Future.succeededFuture();
  }
}
