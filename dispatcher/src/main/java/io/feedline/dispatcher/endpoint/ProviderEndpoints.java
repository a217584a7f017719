package io.feedline.dispatcher.endpoint;

import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkProvider;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceProvider;
import io.feedline.proto.ChangefeedInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.BiFunction;

/** {@link Endpoints} from the source and sink providers on the class path, chosen by URI scheme. */
public final class ProviderEndpoints implements Endpoints {

  private final Map<String, SourceProvider> sources = new TreeMap<>();
  private final Map<String, SinkProvider> sinks = new TreeMap<>();

  public ProviderEndpoints() {
    ServiceLoader.load(SourceProvider.class).forEach(p -> sources.put(p.scheme(), p));
    ServiceLoader.load(SinkProvider.class).forEach(p -> sinks.put(p.scheme(), p));
  }

  /**
   * Checks, without opening anything, that {@code uri} parses and names a source scheme on the class path.
   *
   * @throws InvalidEndpointException with a redacted, actionable message
   */
  public void checkSource(String uri) {
    check("source", uri, sources);
  }

  /** Like {@link #checkSource} for a sink URI. */
  public void checkSink(String uri) {
    check("sink", uri, sinks);
  }

  /**
   * Readies the upstream of a changefeed about to be created ({@link SourceProvider#prepare}): the info
   * comes back with the start position the source chose and the kind of its positions.
   */
  public Future<ChangefeedInfo> prepareSource(ChangefeedInfo info, Vertx vertx) {
    return withProvider("source", info.getSourceUri(), sources, (provider, uri) ->
        provider.prepare(uri, info.getId(), info.getStartTs(), vertx)
            .map(start -> info.toBuilder().setStartTs(start).setPositionKind(provider.positions()).build()));
  }

  /** Drops what {@link #prepareSource} kept upstream for a removed changefeed ({@link SourceProvider#release}). */
  public Future<Void> releaseSource(ChangefeedInfo info, Vertx vertx) {
    try {
      EndpointUri uri = EndpointUri.parse("source", info.getSourceUri());
      SourceProvider provider = sources.get(uri.scheme());
      return provider == null ? Future.succeededFuture() : provider.release(uri, info.getId(), vertx);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static void check(String kind, String raw, Map<String, ?> providers) {
    EndpointUri uri = EndpointUri.parse(kind, raw);
    if (!providers.containsKey(uri.scheme())) {
      throw unknownScheme(kind, uri, providers);
    }
  }

  private static InvalidEndpointException unknownScheme(String kind, EndpointUri uri, Map<String, ?> providers) {
    return new InvalidEndpointException("unknown " + kind + " scheme '" + uri.scheme() + "' in '" + uri
        + "' (known: " + String.join(", ", providers.keySet()) + ")");
  }

  @Override
  public Future<Source> openSource(String uri, EndpointContext context) {
    return withProvider("source", uri, sources, (provider, parsed) -> provider.open(parsed, context));
  }

  @Override
  public Future<Sink> openSink(String uri, EndpointContext context) {
    return withProvider("sink", uri, sinks, (provider, parsed) -> provider.open(parsed, context));
  }

  /** Runs {@code action} with the provider of {@code raw}'s scheme; a bad URI or unknown scheme fails the future. */
  private static <P, T> Future<T> withProvider(String kind, String raw, Map<String, P> providers,
      BiFunction<P, EndpointUri, Future<T>> action) {
    try {
      EndpointUri uri = EndpointUri.parse(kind, raw);
      P provider = providers.get(uri.scheme());
      if (provider == null) {
        return Future.failedFuture(unknownScheme(kind, uri, providers));
      }
      return action.apply(provider, uri);
    } catch (RuntimeException e) {
      // A provider that throws instead of failing its future must not take the caller down.
      return Future.failedFuture(e);
    }
  }
}
