package io.feedline.common.metastore;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.Client;
import io.feedline.common.metastore.MetaStore.Lease;
import io.feedline.common.testing.Await;
import io.feedline.common.testing.EtcdServer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EtcdMetaStoreTest extends MetaStoreContractTest {

  private EtcdServer etcd;
  /** A second, independent client: what other nodes (or an operator) do to the cluster. */
  private Client other;

  @BeforeAll
  void startEtcd() {
    etcd = EtcdServer.start();
    other = Client.builder().endpoints(etcd.endpoint()).build();
  }

  @AfterAll
  void stopEtcd() {
    other.close();
    etcd.stop();
  }

  @Override
  protected MetaStore openStore() {
    return MetaStores.etcd(vertx, List.of(etcd.endpoint()));
  }

  @Override
  protected void compactThrough(long revision) throws Exception {
    // etcd keeps the given revision and drops everything before it
    other.getKVClient().compact(revision + 1).get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void aLeaseRevokedBehindOurBackIsReportedLostOnce() throws Exception {
    Lease lease = grant(2);
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger alsoLost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());
    // A second handler (another role of the node) does not replace the first.
    lease.onLost(v -> alsoLost.incrementAndGet());

    other.getLeaseClient().revoke(lease.id()).get(Await.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Await.until("keep-alive notices the revocation", () -> lost.get() > 0);

    AtomicInteger lateHandler = new AtomicInteger();
    lease.onLost(v -> lateHandler.incrementAndGet());
    Await.until("a handler set after the loss runs at once", () -> lateHandler.get() == 1);
    assertThat(lost.get()).isEqualTo(1);
    assertThat(alsoLost.get()).isEqualTo(1);
  }

  /** A lease with a key bound to it, and how often its loss was reported. */
  private record Held(Lease lease, String key, AtomicInteger lost) {}

  private Held hold(long ttlSeconds, String prefix) {
    Lease lease = grant(ttlSeconds);
    String key = prefix + lease.id();
    await(store.put(key, bytes("held"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());
    return new Held(lease, key, lost);
  }

  /** A whole TTL later nothing was reported lost and the key is still bound: keep-alives went on. */
  private void assertStillHeldAfterATtl(Held held) throws InterruptedException {
    Thread.sleep(TimeUnit.SECONDS.toMillis(held.lease().ttlSeconds()) + 1_000);
    assertThat(held.lost().get()).as("no loss reported").isZero();
    assertThat(await(store.get(held.key()))).as("still bound to a lease kept alive past its TTL").isPresent();
    assertThat(store.outage()).isEmpty();
  }

  @Test
  void aLeaseThatRunsOutAcrossAnEtcdRestartIsNeverLostSilently() throws Exception {
    Held held = hold(2, "/restart/");
    String key = held.key();
    AtomicInteger lost = held.lost();

    etcd.restart();

    // Whatever the restart did to the lease, the holder must not believe in a lease the server dropped:
    // once the bound key is gone, the loss is reported within the lease's TTL.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    Long goneAt = null;
    while (System.nanoTime() < end && lost.get() == 0) {
      if (goneAt == null && await(store.get(key)).isEmpty()) {
        goneAt = System.nanoTime();
      }
      if (goneAt != null) {
        assertThat(System.nanoTime() - goneAt).as("loss reported within a TTL of the key vanishing")
            .isLessThan(TimeUnit.SECONDS.toNanos(2 + 1));
      }
      Thread.sleep(50);
    }
    if (lost.get() == 0) {
      assertThat(await(store.get(key))).as("a lease not reported lost is still held").isPresent();
    }
  }

  @Test
  void closingTheStoreLeavesTheSharedVertxRunning() {
    await(store.close());
    assertThat(await(vertx.executeBlocking(() -> "running"))).isEqualTo("running");
  }

  /**
   * A crash of etcd (SIGKILL, then a restart on its data) shorter than the lease's validity costs the
   * holder nothing: keep-alives resume on the same lease, which is still held a whole TTL later, and no
   * loss is ever reported. etcd renews every lease's TTL when it comes back as leader.
   */
  @Test
  void aLeaseOutlivesAnEtcdCrashShorterThanItsValidity() throws Exception {
    Held held = hold(10, "/outage/");
    etcd.crash();
    Await.until("the store notices the outage", () -> store.outage().isPresent());
    Thread.sleep(2_000);
    etcd.startAgain();
    Await.until("the store is reached again", () -> store.outage().isEmpty());
    assertStillHeldAfterATtl(held);
  }

  /** The same for a hung etcd (SIGSTOP): connections stay open and answer nothing. */
  @Test
  void aLeaseOutlivesAHungEtcdShorterThanItsValidity() throws Exception {
    Held held = hold(10, "/hung/");
    etcd.freeze();
    try {
      Await.until("the store notices the hang", () -> store.outage().isPresent());
      Thread.sleep(2_000);
    } finally {
      etcd.thaw();
    }
    assertStillHeldAfterATtl(held);
  }

  /**
   * While etcd is down the holder cannot know whether its lease still exists: it reports the loss once the
   * TTL minus the safety margin has passed since its last acknowledged keep-alive was sent — before etcd
   * could have expired it and given anything of the holder's to someone else — without hearing from etcd.
   */
  @Test
  void aLeaseIsTakenAsLostBeforeItCanHaveExpiredWhileEtcdIsDown() throws Exception {
    Lease lease = grant(5);
    AtomicLong lostAt = new AtomicLong();
    lease.onLost(v -> lostAt.compareAndSet(0, System.nanoTime()));
    long lastAcknowledgedBefore = System.nanoTime();
    etcd.crash();
    long crashed = System.nanoTime();
    try {
      Await.until("the loss is reported with etcd down", () -> lostAt.get() != 0);
      long validFor = new LeaseValidity(java.time.Duration.ofSeconds(5), 0).validFor().toNanos();
      assertThat(lostAt.get() - lastAcknowledgedBefore).as("not before the validity could have run out")
          .isGreaterThanOrEqualTo(validFor - 2 * LeaseValidity.KEEP_ALIVE_INTERVAL.toNanos());
      assertThat(lostAt.get() - crashed).as("before etcd could have expired it").isLessThan(TimeUnit.SECONDS.toNanos(5));
    } finally {
      etcd.startAgain();
    }
  }
}
