package io.feedline.dispatcher.sink.file;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkProvider;
import io.vertx.core.Future;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;

/** {@code file:///absolute/dir}. */
public final class FileSinkProvider implements SinkProvider {

  @Override
  public String scheme() {
    return "file";
  }

  @Override
  public Future<Sink> open(EndpointUri uri, EndpointContext context) {
    uri.requireOnlyParams("sink", Set.of());
    if (!uri.host().isEmpty() && !uri.host().equals("localhost")) {
      throw new InvalidEndpointException("sink URI '" + uri + "': a file sink writes local files, use file:///absolute/dir");
    }
    if (!uri.path().startsWith("/") || uri.path().length() < 2) {
      throw new InvalidEndpointException("sink URI '" + uri + "' needs an absolute directory, e.g. file:///var/feedline/out");
    }
    Path dir;
    try {
      dir = Path.of(uri.path());
    } catch (InvalidPathException e) {
      throw new InvalidEndpointException("sink URI '" + uri + "': not a usable path: " + e.getReason());
    }
    return FileSink.open(context.blockingIo(), dir).recover(err -> Future.failedFuture(
        new InvalidEndpointException("sink URI '" + uri + "': cannot create directory " + dir + ": " + err)));
  }
}
