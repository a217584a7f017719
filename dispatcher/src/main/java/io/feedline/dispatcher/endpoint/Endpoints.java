package io.feedline.dispatcher.endpoint;

import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.source.Source;
import io.vertx.core.Future;

/**
 * Opens the source and sink of a changefeed from their URIs, bound to the context they will run on (the
 * changefeed's data lane).
 */
public interface Endpoints {

  /** Fails with an {@link InvalidEndpointException} (redacted message) for a URI it cannot use. */
  Future<Source> openSource(String uri, EndpointContext context);

  /** Fails with an {@link InvalidEndpointException} (redacted message) for a URI it cannot use. */
  Future<Sink> openSink(String uri, EndpointContext context);
}
