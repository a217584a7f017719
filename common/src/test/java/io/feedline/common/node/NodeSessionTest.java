package io.feedline.common.node;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import io.feedline.common.time.VertxScheduler;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On real etcd: a lost session reaches every role that registered for it; a node that starts serving says so
 * in its registration, under the same lease, and the members see it.
 */
class NodeSessionTest {

  private EtcdServer etcd;
  private Vertx vertx;
  private MetaStore store;

  @BeforeEach
  void start() {
    etcd = EtcdServer.start();
    vertx = Vertx.vertx();
    store = MetaStores.etcd(vertx, List.of(etcd.endpoint()));
  }

  @AfterEach
  void stop() {
    await(store.close());
    await(vertx.close());
    etcd.close();
  }

  @Test
  void everyHandlerHearsOfTheLossOnceIncludingOneAddedAfterIt() throws Exception {
    NodeId node = NodeId.of("n1");
    MetaKeys keys = new MetaKeys("session-test");
    NodeSession session = await(NodeSession.open(store, keys,
        NodeRegistration.newBuilder().setNodeId(node.value()).build(), 5));
    AtomicInteger process = new AtomicInteger();
    AtomicInteger dispatchers = new AtomicInteger();
    session.onLost(v -> process.incrementAndGet());
    session.onLost(v -> dispatchers.incrementAndGet());

    try (Client other = Client.builder().endpoints(etcd.endpoint()).build()) {
      other.getLeaseClient().revoke(session.lease().id()).get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
    Await.until("both handlers hear of the loss", () -> process.get() > 0 && dispatchers.get() > 0);

    AtomicInteger late = new AtomicInteger();
    session.onLost(v -> late.incrementAndGet());
    Await.until("a handler added after the loss runs too", () -> late.get() == 1);
    assertThat(process.get()).isEqualTo(1);
    assertThat(dispatchers.get()).isEqualTo(1);
  }

  @Test
  void aNodeThatServesSaysSoUnderTheSameLease() {
    NodeId node = NodeId.of("n1");
    MetaKeys keys = new MetaKeys("session-test");
    ClusterMembership members = new ClusterMembership(store, keys, VertxScheduler.onCurrentContext(vertx));
    await(members.start());
    NodeSession session = await(NodeSession.open(store, keys, NodeRegistration.newBuilder().setNodeId(node.value()).build(), 5));
    Await.until("registered, not serving yet", () -> members.members().containsKey(node) && !members.members().get(node).getServing());

    await(session.serving());

    Await.until("the members see it serving", () -> members.members().get(node).getServing());
    assertThat(session.registration().getServing()).isTrue();
    await(session.close());
    Await.until("revoking the lease still takes the registration with it", () -> !members.members().containsKey(node));
    members.stop();
  }
}
