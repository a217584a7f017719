package io.feedline.dispatcher.sink;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.vertx.core.Future;

/**
 * A kind of sink, found through {@link java.util.ServiceLoader} and chosen by URI scheme. Listed in
 * {@code META-INF/services/io.feedline.dispatcher.sink.SinkProvider}.
 */
public interface SinkProvider {

  String scheme();

  /** Opens a sink; a bad URI fails the future with an {@link io.feedline.dispatcher.endpoint.InvalidEndpointException}. */
  Future<Sink> open(EndpointUri uri, EndpointContext context);
}
