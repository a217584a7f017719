package io.feedline.common.metastore;

import io.feedline.common.metastore.embedded.EmbeddedMetaStore;
import io.feedline.common.metastore.etcd.EtcdMetaStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;

/** Creates the metastore a node runs on: embedded for a single node, etcd for a cluster. */
public final class MetaStores {

  private MetaStores() {}

  /** The durable single-node store in {@code dataDir}; opening reads the disk, hence the future. */
  public static Future<MetaStore> embedded(Vertx vertx, Path dataDir) {
    return EmbeddedMetaStore.open(vertx, dataDir, EmbeddedMetaStore.Options.defaults()).map(store -> store);
  }

  /** A client of the etcd cluster at {@code endpoints} ({@code http://host:port}); connects lazily. */
  public static MetaStore etcd(Vertx vertx, List<String> endpoints) {
    return new EtcdMetaStore(vertx, endpoints, EtcdMetaStore.DEFAULT_REQUEST_TIMEOUT);
  }
}
