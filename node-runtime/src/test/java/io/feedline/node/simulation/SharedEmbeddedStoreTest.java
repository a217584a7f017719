package io.feedline.node.simulation;

import static io.feedline.common.testing.Await.await;
import static io.feedline.common.testing.Await.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.testing.Await;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a node sees of a restart of the shared embedded store, and of its own crash. */
class SharedEmbeddedStoreTest {

  private Vertx vertx;
  private SharedEmbeddedStore shared;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    shared = SharedEmbeddedStore.open(vertx, Path.of("target", "shared-embedded", UUID.randomUUID().toString()).toAbsolutePath());
  }

  @AfterEach
  void close() {
    shared.close();
    await(vertx.close());
  }

  @Test
  void aRestartLosesEverySessionKeepsTheDataAndEndsWatchesSoThatTheyCanResume() throws Exception {
    MetaStore node = shared.client();
    MetaStore other = shared.client();
    MetaStore.Lease lease = await(node.grantLease(1));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());
    await(node.put("/s/session", bytes("mine"), lease.id()));
    long written = await(node.put("/s/data", bytes("kept")));
    BlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
    CompletableFuture<Throwable> broken = new CompletableFuture<>();
    other.watchPrefix("/s/", written + 1, events::add, broken::complete);

    shared.restart(Duration.ZERO);

    Await.until("the session lease is lost", () -> lost.get() == 1);
    assertThat(broken.get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOfSatisfying(MetaStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE));
    assertThat(await(other.get("/s/data")).map(KeyValue::valueAsString)).contains("kept");
    assertThat(awaitFailure(lease.revoke()))
        .isInstanceOfSatisfying(MetaStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.LEASE_NOT_FOUND));
    // The lost lease's key outlives the restart by one TTL (nobody can keep it alive), then it is gone.
    other.watchPrefix("/s/", written + 1, events::add, err -> {});
    WatchEvent expiry = events.poll(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(expiry).isNotNull();
    assertThat(expiry.type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(expiry.kv().key()).isEqualTo("/s/session");
    assertThat(lost.get()).as("onLost runs once").isEqualTo(1);
    MetaStore.Lease after = await(node.grantLease(1));
    assertThat(after.id()).as("lease ids go on after a restart").isGreaterThan(lease.id());
  }

  @Test
  void callsFailUnavailableWhileTheStoreIsDown() {
    MetaStore node = shared.client();
    await(node.put("/x", bytes("before")));

    shared.stop();
    assertThat(awaitFailure(node.get("/x")))
        .isInstanceOfSatisfying(MetaStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE));
    shared.start();
    assertThat(await(node.get("/x")).map(KeyValue::valueAsString)).contains("before");
  }

  @Test
  void aCrashedClientsLeaseExpiresAfterItsTtlWhileTheStoreStaysUp() {
    MetaStore crashed = shared.client();
    MetaStore observer = shared.client();
    MetaStore.Lease lease = await(crashed.grantLease(3));
    await(crashed.put("/c/registration", bytes("node"), lease.id()));

    await(crashed.close());

    assertThat(await(observer.get("/c/registration"))).as("alive until the TTL passes").isPresent();
    Await.until("the crashed client's key expires", () -> await(observer.get("/c/registration")).isEmpty());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
