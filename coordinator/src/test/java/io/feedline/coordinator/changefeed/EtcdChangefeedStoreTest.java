package io.feedline.coordinator.changefeed;

import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.EtcdServer;
import io.vertx.core.Vertx;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class EtcdChangefeedStoreTest extends ChangefeedStoreContractTest {

  private EtcdServer etcd;

  @BeforeAll
  void startEtcd() {
    etcd = EtcdServer.start();
  }

  @AfterAll
  void stopEtcd() {
    etcd.stop();
  }

  @Override
  protected MetaStore openStore(Vertx vertx) {
    return MetaStores.etcd(vertx, List.of(etcd.endpoint()));
  }
}
