package io.feedline.common.node;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.ForwardingMetaStore;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.MetaStores;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.testing.Await;
import io.feedline.common.time.ManualScheduler;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterMembershipTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");

  private final MetaKeys keys = new MetaKeys("membership-test");
  private final ManualScheduler scheduler = new ManualScheduler(0);
  private Vertx vertx;
  private FlakyStore store;

  @BeforeEach
  void open(@TempDir Path dir) {
    vertx = Vertx.vertx();
    store = new FlakyStore(await(MetaStores.embedded(vertx, dir.resolve("meta"))));
  }

  @AfterEach
  void close() {
    await(store.delegate().close());
    await(vertx.close());
  }

  /** E.g. the metastore restarting: the watch breaks and the store still refuses the re-list. */
  @Test
  void aReListThatFailsIsRetriedUntilTheViewIsCurrentAgain() {
    register(N1);
    ClusterMembership membership = new ClusterMembership(store, keys, scheduler);
    List<NodeId> joined = new CopyOnWriteArrayList<>();
    membership.onChange(change -> {
      if (change.joined()) {
        joined.add(change.node());
      }
    });
    await(membership.start());
    assertThat(joined).containsExactly(N1);

    store.listsFail = true;
    store.breakWatches();
    assertThat(store.failedLists).as("a broken watch is re-listed after a pause, not at once").isZero();
    scheduler.advance(ClusterMembership.RELIST_RETRY_MILLIS);
    Await.until("the re-list was tried and failed", () -> store.failedLists > 0);
    register(N2);
    store.listsFail = false;
    scheduler.advance(ClusterMembership.RELIST_RETRY_MILLIS);

    Await.until("the node that joined meanwhile is seen", () -> joined.contains(N2));
    assertThat(membership.members()).containsOnlyKeys(N1, N2);
    membership.stop();
  }

  private void register(NodeId node) {
    await(store.delegate().put(keys.node(node), NodeRegistration.newBuilder().setNodeId(node.value()).build().toByteArray()));
  }

  /** A real store whose prefix lists can be made to fail and whose watches can be broken on demand. */
  private static final class FlakyStore extends ForwardingMetaStore {
    private final List<Handler<Throwable>> watchErrors = new CopyOnWriteArrayList<>();
    volatile boolean listsFail;
    volatile int failedLists;

    FlakyStore(MetaStore delegate) {
      super(delegate);
    }

    @Override
    public Future<RangeResult> getPrefix(String prefix) {
      if (listsFail) {
        failedLists++;
        return Future.failedFuture(new MetaStoreException(Reason.UNAVAILABLE, "store down"));
      }
      return super.getPrefix(prefix);
    }

    @Override
    public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
      Watch watch = super.watchPrefix(prefix, fromRevision, onEvent, onError);
      watchErrors.add(error -> {
        watch.cancel();
        onError.handle(error);
      });
      return watch;
    }

    void breakWatches() {
      List<Handler<Throwable>> broken = List.copyOf(watchErrors);
      watchErrors.clear();
      broken.forEach(h -> h.handle(new MetaStoreException(Reason.UNAVAILABLE, "watch broke")));
    }
  }
}
