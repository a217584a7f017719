package io.feedline.dispatcher.sink.blackhole;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkProvider;
import io.vertx.core.Future;
import java.util.Set;

/** {@code blackhole://}. */
public final class BlackholeSinkProvider implements SinkProvider {

  @Override
  public String scheme() {
    return "blackhole";
  }

  @Override
  public Future<Sink> open(EndpointUri uri, EndpointContext context) {
    uri.requireOnlyParams("sink", Set.of());
    if (!uri.host().isEmpty() || !uri.path().isEmpty()) {
      throw new InvalidEndpointException("sink URI '" + uri + "': blackhole takes no host or path, use blackhole://");
    }
    return Future.succeededFuture(new BlackholeSink());
  }
}
