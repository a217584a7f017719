package io.feedline.node;

import io.etcd.jetcd.Client;
import io.feedline.common.testing.EtcdServer;
import io.vertx.core.Future;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fixture of a test that runs one node on a real etcd of its own and looks at the store behind the node's back:
 * etcd and an operator's client of it for the class, the node a test starts ({@link #starting}) stopped after it
 * (also one still starting), etcd stopped last.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class NodeOnEtcd {

  protected EtcdServer etcd;
  protected Client operator;
  protected Future<NodeRuntime> starting;

  @BeforeAll
  void startEtcd() {
    etcd = EtcdServer.start();
    operator = Client.builder().endpoints(etcd.endpoint()).build();
  }

  @AfterEach
  void stopNode(VertxTestContext ctx) {
    TestNodes.stop(starting).onComplete(ctx.succeedingThenComplete());
  }

  @AfterAll
  void stopEtcd() {
    try {
      if (operator != null) {
        operator.close();
      }
    } finally {
      etcd.stop();
    }
  }
}
