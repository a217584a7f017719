package io.feedline.dispatcher.source.datagen;

import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceProvider;
import io.vertx.core.Future;

/** {@code datagen://?tables=N&seed=S[&rate=R][&until=U]}: see {@link DatagenSpec}. */
public final class DatagenSourceProvider implements SourceProvider {

  @Override
  public String scheme() {
    return "datagen";
  }

  @Override
  public Future<Source> open(EndpointUri uri, EndpointContext context) {
    return Future.succeededFuture(new DatagenSource(DatagenSpec.parse(uri), context.scheduler()));
  }
}
