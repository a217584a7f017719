package io.feedline.dispatcher.source;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.vertx.core.Future;

/**
 * A kind of source, found through {@link java.util.ServiceLoader} and chosen by URI scheme. Listed in
 * {@code META-INF/services/io.feedline.dispatcher.source.SourceProvider}.
 */
public interface SourceProvider {

  String scheme();

  /** Opens a source; a bad URI fails the future with an {@link io.feedline.dispatcher.endpoint.InvalidEndpointException}. */
  Future<Source> open(EndpointUri uri, EndpointContext context);
}
