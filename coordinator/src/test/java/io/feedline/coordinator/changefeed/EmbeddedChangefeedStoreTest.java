package io.feedline.coordinator.changefeed;

import static io.feedline.common.testing.Await.await;

import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.UUID;

class EmbeddedChangefeedStoreTest extends ChangefeedStoreContractTest {

  @Override
  protected MetaStore openStore(Vertx vertx) {
    return await(MetaStores.embedded(vertx, Path.of("target", "embedded-registry", UUID.randomUUID().toString())));
  }
}
