package io.feedline.dispatcher.testing;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.Endpoints;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.source.Source;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.HashMap;
import java.util.Map;

/**
 * Real providers, plus test sinks by name: {@code test://<name>} opens the {@link ControllableSink}
 * registered under that name, whose opening can itself be held. Every opened source is wrapped in a
 * {@link ControllableSource} the test can reach.
 */
public final class TestEndpoints implements Endpoints {

  private final ProviderEndpoints providers = new ProviderEndpoints();
  private final Map<String, ControllableSink> sinks = new HashMap<>();
  private final Map<String, Promise<Void>> heldOpens = new HashMap<>();
  private ControllableSource lastSource;
  private boolean holdSubscribeOfNewSources;

  /** The sink {@code test://name} opens; created on first use. */
  public ControllableSink sink(String name) {
    return sinks.computeIfAbsent(name, n -> new ControllableSink());
  }

  /** Opening {@code test://name} waits until {@link #releaseOpen}. */
  public void holdOpen(String name) {
    heldOpens.put(name, Promise.promise());
  }

  public void releaseOpen(String name) {
    heldOpens.remove(name).complete();
  }

  /** Sources opened from now on hold their subscriptions until released. */
  public void holdSubscribeOfNewSources() {
    holdSubscribeOfNewSources = true;
  }

  public ControllableSource lastSource() {
    return lastSource;
  }

  @Override
  public Future<Source> openSource(String uri, EndpointContext context) {
    return providers.openSource(uri, context).map(source -> {
      lastSource = new ControllableSource(source);
      if (holdSubscribeOfNewSources) {
        lastSource.holdSubscribe();
      }
      return lastSource;
    });
  }

  @Override
  public Future<Sink> openSink(String uri, EndpointContext context) {
    if (!uri.startsWith("test://")) {
      return providers.openSink(uri, context);
    }
    String name = uri.substring("test://".length());
    Promise<Void> held = heldOpens.get(name);
    Future<Void> opened = held == null ? Future.succeededFuture() : held.future();
    return opened.map(v -> sink(name));
  }
}
