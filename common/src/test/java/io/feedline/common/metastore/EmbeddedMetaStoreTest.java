package io.feedline.common.metastore;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.MetaStore.Leadership;
import io.feedline.common.metastore.MetaStore.Lease;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.embedded.EmbeddedMetaStore;
import io.feedline.common.testing.ManualClock;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EmbeddedMetaStoreTest extends MetaStoreContractTest {

  /** Small, so that compacting takes a few writes. */
  private static final int HISTORY = 16;

  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private Path dataDir;

  @Override
  protected MetaStore openStore() {
    dataDir = Path.of("target", "embedded-metastore", UUID.randomUUID().toString());
    return reopen();
  }

  private MetaStore reopen() {
    return await(EmbeddedMetaStore.open(vertx, dataDir, options()));
  }

  private EmbeddedMetaStore.Options options() {
    return EmbeddedMetaStore.Options.defaults().withClock(clock).withHistoryRevisions(HISTORY);
  }

  /** Only the last {@link #HISTORY} revisions are kept: push the rest out. */
  @Override
  protected void compactThrough(long revision) {
    long current = await(store.getPrefix(p)).revision();
    for (long r = current; r - HISTORY < revision; r++) {
      await(store.put(p + "filler", bytes("x")));
    }
  }

  @Test
  void dataRevisionsAndHistorySurviveAReopen() throws Exception {
    long a = await(store.put(p + "a", bytes("1")));
    await(store.put(p + "a", bytes("2")));
    await(store.put(p + "b", bytes("gone")));
    await(store.delete(p + "b"));
    await(store.txn(Txn.builder().then(Txn.Op.put(p + "c", bytes("3"))).build()));
    KeyValue before = await(store.get(p + "a")).orElseThrow();
    long revision = await(store.getPrefix(p)).revision();

    await(store.close());
    store = reopen();

    KeyValue after = await(store.get(p + "a")).orElseThrow();
    assertThat(after.valueAsString()).isEqualTo("2");
    assertThat(after.createRevision()).isEqualTo(before.createRevision());
    assertThat(after.modRevision()).isEqualTo(before.modRevision());
    assertThat(after.version()).isEqualTo(2);
    assertThat(await(store.getPrefix(p)).kvs()).extracting(KeyValue::key).containsExactly(p + "a", p + "c");
    assertThat(await(store.getPrefix(p)).revision()).isEqualTo(revision);
    assertThat(await(store.put(p + "d", bytes("4")))).as("the counter goes on").isEqualTo(revision + 1);

    Events replay = new Events();
    replay.watch = store.watchPrefix(p, a, replay.queue::add, replay.errors::complete);
    assertEvent(replay.next(), WatchEvent.Type.PUT, p + "a", a);
    assertEvent(replay.next(), WatchEvent.Type.PUT, p + "a", a + 1);
    replay.watch.cancel();
  }

  @Test
  void theHistoryBoundSurvivesAReopen() throws Exception {
    long old = await(store.put(p + "a", bytes("1")));
    compactThrough(old);
    long latest = await(store.put(p + "a", bytes("2")));

    await(store.close());
    store = reopen();

    Events compacted = new Events();
    store.watchPrefix(p, old, compacted.queue::add, compacted.errors::complete);
    assertReason(compacted.error(), Reason.COMPACTED);

    Events kept = new Events();
    kept.watch = store.watchPrefix(p, latest - HISTORY + 1, kept.queue::add, kept.errors::complete);
    assertThat(kept.next().kv().modRevision()).isEqualTo(latest - HISTORY + 1);
    kept.watch.cancel();
  }

  @Test
  void leasesOfAPreviousRunExpireAfterAFreshFullTtl() throws Exception {
    Lease lease = grant(10);
    await(store.put(p + "bound", bytes("1"), lease.id()));
    await(store.put(p + "free", bytes("2")));
    await(store.close());

    clock.advance(Duration.ofHours(1));
    store = reopen();
    assertThat(await(store.get(p + "bound"))).as("a recovered lease starts a fresh TTL").isPresent();
    long revision = await(store.getPrefix(p)).revision();
    Events events = new Events();
    events.watch = store.watchPrefix(p, revision + 1, events.queue::add, events.errors::complete);

    // Expiry is checked before every operation, so each read below sees the clock it follows.
    clock.advance(Duration.ofSeconds(9));
    assertThat(await(store.get(p + "bound"))).isPresent();
    clock.advance(Duration.ofSeconds(2));
    assertThat(await(store.get(p + "bound"))).isEmpty();

    assertEvent(events.next(), WatchEvent.Type.DELETE, p + "bound", revision + 1);
    assertThat(await(store.getPrefix(p)).kvs()).extracting(KeyValue::key).containsExactly(p + "free");
    assertThat(await(store.getPrefix(p)).revision()).isEqualTo(revision + 1);
    assertReason(awaitFailure(store.put(p + "again", bytes("x"), lease.id())), Reason.LEASE_NOT_FOUND);
    events.watch.cancel();
  }

  @Test
  void theExpiryOfAPreviousRunsLeaderPromotesTheWaitingCampaigner() {
    String election = p + "election";
    await(store.election().campaign(election, grant(5), bytes("old")));
    await(store.close());

    store = reopen();
    Future<Leadership> waiting = store.election().campaign(election, grant(30), bytes("new"));
    awaitCandidates(election, 2);
    assertThat(proposal(await(store.election().leader(election)).orElseThrow())).isEqualTo("old");

    // No operation follows: the store's own periodic check has to notice the expiry.
    clock.advance(Duration.ofSeconds(6));
    assertThat(proposal(await(waiting).leader())).isEqualTo("new");
  }

  @Test
  void aDataDirIsOpenedByOneStoreAtATime() {
    Throwable error = awaitFailure(EmbeddedMetaStore.open(vertx, dataDir, options()));
    assertReason(error, Reason.UNAVAILABLE);
    assertThat(await(store.put(p + "a", bytes("still mine")))).isPositive();
  }
}
