package io.feedline.common.metastore;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.MetaStore.Leader;
import io.feedline.common.metastore.MetaStore.Leadership;
import io.feedline.common.metastore.MetaStore.Lease;
import io.feedline.common.metastore.MetaStore.Watch;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.Txn.Compare;
import io.feedline.common.metastore.Txn.Op;
import io.feedline.common.testing.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;

/**
 * The behaviour every {@link MetaStore} must show, run against each implementation by a subclass.
 *
 * <p>Stores may share state between tests (one etcd per class), so every test works under its own key
 * prefix and compares revisions relative to the ones it observed.
 *
 * <p>Every wait goes through {@link #await} and {@link #elapse}: real time for real stores, while a store on
 * simulated time overrides both to drive its own clock.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class MetaStoreContractTest {

  protected Vertx vertx;
  protected MetaStore store;
  /** This test's key prefix, ending in '/'. */
  protected String p;
  private final List<Lease> grantedLeases = new ArrayList<>();
  /** How long a test waits between two looks at what it waits for. */
  private static final Duration POLL = Duration.ofMillis(20);
  /** How long a probe write is given to show up in a watch before the next one. */
  private static final Duration PROBE_WAIT = Duration.ofMillis(200);

  /** A fresh store for one test. */
  protected abstract MetaStore openStore() throws Exception;

  /** Makes the history up to and including {@code revision} (an older one) unavailable to new watches. */
  protected abstract void compactThrough(long revision) throws Exception;

  /**
   * The future's result; fails the test if it fails or does not complete in time. A store on simulated time
   * runs its clock until the future completes.
   */
  protected <T> T await(Future<T> future) {
    return Await.await(future);
  }

  /** Lets {@code duration} pass: real time by default, a store on simulated time moves its clock. */
  protected void elapse(Duration duration) {
    Await.pause(duration);
  }

  /** Where the store's callers run: a Vert.x context by default. */
  protected Caller caller() {
    Context context = vertx.getOrCreateContext();
    return new Caller() {
      @Override
      public void run(Runnable action) {
        context.runOnContext(v -> action.run());
      }

      @Override
      public boolean isCurrent() {
        return Vertx.currentContext() == context;
      }
    };
  }

  /** Where a caller of the store runs, and where its results and events must come back. */
  protected interface Caller {
    void run(Runnable action);

    boolean isCurrent();
  }

  @BeforeAll
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stopVertx() {
    Await.await(vertx.close());
  }

  @BeforeEach
  void openStoreForTest(TestInfo test) throws Exception {
    store = openStore();
    String unique = UUID.randomUUID().toString().substring(0, 8);
    p = "/contract/" + test.getTestMethod().orElseThrow().getName() + "-" + unique + "/";
  }

  /** Revokes what a test left behind, so that no lease expires into a later test's revisions. */
  @AfterEach
  void closeStore() {
    for (Lease lease : grantedLeases) {
      try {
        await(lease.revoke());
      } catch (AssertionError alreadyGone) {
        // revoked by the test itself
      }
    }
    grantedLeases.clear();
    await(store.close());
  }

  // ---------------------------------------------------------------------------------------------
  // key-values and revisions

  @Test
  void putGetDelete() {
    long first = await(store.put(p + "a", bytes("1")));
    KeyValue created = await(store.get(p + "a")).orElseThrow();
    assertThat(created.valueAsString()).isEqualTo("1");
    assertThat(created.createRevision()).isEqualTo(first);
    assertThat(created.modRevision()).isEqualTo(first);
    assertThat(created.version()).isEqualTo(1);
    assertThat(created.lease()).isZero();

    long second = await(store.put(p + "a", bytes("2")));
    KeyValue updated = await(store.get(p + "a")).orElseThrow();
    assertThat(second).isGreaterThan(first);
    assertThat(updated.valueAsString()).isEqualTo("2");
    assertThat(updated.createRevision()).isEqualTo(first);
    assertThat(updated.modRevision()).isEqualTo(second);
    assertThat(updated.version()).isEqualTo(2);

    assertThat(await(store.delete(p + "a"))).isTrue();
    assertThat(await(store.get(p + "a"))).isEmpty();
    assertThat(await(store.delete(p + "a"))).isFalse();

    long recreated = await(store.put(p + "a", bytes("3")));
    KeyValue again = await(store.get(p + "a")).orElseThrow();
    assertThat(again.createRevision()).isEqualTo(recreated);
    assertThat(again.version()).isEqualTo(1);
  }

  @Test
  void everyChangeBumpsTheOneRevisionCounter() {
    long a = await(store.put(p + "a", bytes("x")));
    long b = await(store.put(p + "b", bytes("x")));
    assertThat(b).isEqualTo(a + 1);

    await(store.delete(p + "a"));
    long afterDelete = await(store.getPrefix(p)).revision();
    assertThat(afterDelete).isEqualTo(b + 1);

    await(store.delete(p + "missing"));
    assertThat(await(store.getPrefix(p)).revision()).as("deleting nothing changes nothing").isEqualTo(afterDelete);
    assertThat(await(store.put(p + "c", bytes("x")))).isEqualTo(afterDelete + 1);
  }

  @Test
  void getPrefixReturnsOnlyKeysUnderThePrefixSortedByKey() {
    await(store.put(p + "c", bytes("3")));
    await(store.put(p + "a", bytes("1")));
    await(store.put(p + "b/x", bytes("2")));
    String sibling = p.substring(0, p.length() - 1) + "-sibling";
    long last = await(store.put(sibling, bytes("no")));

    MetaStore.RangeResult range = await(store.getPrefix(p));
    assertThat(range.kvs()).extracting(KeyValue::key).containsExactly(p + "a", p + "b/x", p + "c");
    assertThat(range.kvs()).extracting(KeyValue::valueAsString).containsExactly("1", "2", "3");
    assertThat(range.revision()).isEqualTo(last);
  }

  // ---------------------------------------------------------------------------------------------
  // transactions

  @Test
  void txnTakesTheSuccessBranchOnlyWhileTheModRevisionMatches() {
    long written = await(store.put(p + "k", bytes("1")));
    Txn casTo2 = Txn.builder()
        .when(Compare.modRevision(p + "k", written))
        .then(Op.put(p + "k", bytes("2")))
        .otherwise(Op.get(p + "k"))
        .build();

    TxnResult won = await(store.txn(casTo2));
    assertThat(won.succeeded()).isTrue();
    assertThat(won.revision()).isEqualTo(written + 1);
    assertThat(won.gets()).isEmpty();
    assertThat(await(store.get(p + "k")).orElseThrow().modRevision()).isEqualTo(won.revision());

    TxnResult stale = await(store.txn(casTo2));
    assertThat(stale.succeeded()).isFalse();
    assertThat(stale.revision()).as("a failed compare writes nothing").isEqualTo(won.revision());
    assertThat(stale.gets()).hasSize(1);
    KeyValue current = stale.gets().get(0).orElseThrow();
    assertThat(current.valueAsString()).isEqualTo("2");
    assertThat(current.modRevision()).isEqualTo(won.revision());
  }

  @Test
  void absentCompareGuardsCreationAndCreateRevisionCompareGuardsTheIncarnation() {
    String key = p + "owner";
    TxnResult created = await(store.txn(createIfAbsent(key, "first")));
    assertThat(created.succeeded()).isTrue();

    TxnResult second = await(store.txn(createIfAbsent(key, "second")));
    assertThat(second.succeeded()).isFalse();
    KeyValue existing = second.gets().get(0).orElseThrow();
    assertThat(existing.valueAsString()).isEqualTo("first");
    assertThat(existing.createRevision()).isEqualTo(created.revision());

    await(store.put(key, bytes("updated")));
    Txn deleteThisIncarnation = Txn.builder()
        .when(Compare.createRevision(key, created.revision()))
        .then(Op.delete(key))
        .build();
    assertThat(await(store.txn(deleteThisIncarnation)).succeeded())
        .as("an update keeps the create revision").isTrue();
    assertThat(await(store.get(key))).isEmpty();

    await(store.put(key, bytes("reborn")));
    assertThat(await(store.txn(deleteThisIncarnation)).succeeded())
        .as("a recreated key is a new incarnation").isFalse();
    assertThat(await(store.get(key))).isPresent();
  }

  @Test
  void multiKeyTxnWritesNothingWhenOneCompareFails() {
    long a = await(store.put(p + "a", bytes("a0")));
    long b = await(store.put(p + "b", bytes("b0")));
    long before = await(store.getPrefix(p)).revision();

    TxnResult failed = await(store.txn(Txn.builder()
        .when(Compare.modRevision(p + "a", a))
        .when(Compare.modRevision(p + "b", a))
        .then(Op.put(p + "a", bytes("a1")))
        .then(Op.put(p + "b", bytes("b1")))
        .then(Op.put(p + "c", bytes("c1")))
        .build()));
    assertThat(failed.succeeded()).isFalse();
    assertThat(await(store.getPrefix(p)).revision()).isEqualTo(before);
    assertThat(await(store.getPrefix(p)).kvs()).extracting(KeyValue::valueAsString).containsExactly("a0", "b0");

    TxnResult succeeded = await(store.txn(Txn.builder()
        .when(Compare.modRevision(p + "a", a))
        .when(Compare.modRevision(p + "b", b))
        .when(Compare.absent(p + "c"))
        .then(Op.put(p + "a", bytes("a1")))
        .then(Op.put(p + "b", bytes("b1")))
        .then(Op.put(p + "c", bytes("c1")))
        .build()));
    assertThat(succeeded.succeeded()).isTrue();
    assertThat(succeeded.revision()).as("one revision for the whole txn").isEqualTo(before + 1);
    assertThat(await(store.getPrefix(p)).kvs())
        .allSatisfy(kv -> assertThat(kv.modRevision()).isEqualTo(succeeded.revision()))
        .extracting(KeyValue::valueAsString).containsExactly("a1", "b1", "c1");
  }

  @Test
  void getsInsideATxnSeeTheEarlierOpsOfTheirBranch() {
    await(store.put(p + "doomed", bytes("x")));
    TxnResult result = await(store.txn(Txn.builder()
        .when(Compare.absent(p + "fresh"))
        .then(Op.put(p + "fresh", bytes("new")))
        .then(Op.delete(p + "doomed"))
        .then(Op.get(p + "fresh"))
        .then(Op.get(p + "doomed"))
        .then(Op.get(p + "never"))
        .otherwise(Op.get(p + "fresh"))
        .build()));

    assertThat(result.succeeded()).isTrue();
    assertThat(result.gets()).hasSize(3);
    assertThat(result.gets().get(0).orElseThrow().valueAsString()).isEqualTo("new");
    assertThat(result.gets().get(0).orElseThrow().modRevision()).isEqualTo(result.revision());
    assertThat(result.gets().get(1)).isEmpty();
    assertThat(result.gets().get(2)).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // watches

  @Test
  void watchFromNowSeesPutsAndDeletesUnderThePrefixOnly() throws Exception {
    Events events = new Events();
    events.watch = store.watchPrefix(p, 0, events.queue::add, events.errors::complete);
    events.awaitLive(store, p);

    long put = await(store.put(p + "a", bytes("1")));
    await(store.put(p.substring(0, p.length() - 1) + "-sibling", bytes("not mine")));
    await(store.delete(p + "a"));
    long deleted = await(store.getPrefix(p)).revision();

    WatchEvent first = events.next();
    assertThat(first.type()).isEqualTo(WatchEvent.Type.PUT);
    assertThat(first.kv().key()).isEqualTo(p + "a");
    assertThat(first.kv().valueAsString()).isEqualTo("1");
    assertThat(first.kv().createRevision()).isEqualTo(put);
    assertThat(first.kv().modRevision()).isEqualTo(put);
    assertThat(first.kv().version()).isEqualTo(1);

    WatchEvent second = events.next();
    assertThat(second.type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(second.kv().key()).isEqualTo(p + "a");
    assertThat(second.kv().modRevision()).isEqualTo(deleted);
    events.watch.cancel();
  }

  @Test
  void watchFromAnOlderRevisionReplaysTheHistoryThenGoesLive() throws Exception {
    long a = await(store.put(p + "a", bytes("1")));
    long b = await(store.put(p + "b", bytes("2")));
    await(store.delete(p + "a"));
    long deleted = await(store.getPrefix(p)).revision();

    Events all = new Events();
    all.watch = store.watchPrefix(p, a, all.queue::add, all.errors::complete);
    assertEvent(all.next(), WatchEvent.Type.PUT, p + "a", a);
    assertEvent(all.next(), WatchEvent.Type.PUT, p + "b", b);
    assertEvent(all.next(), WatchEvent.Type.DELETE, p + "a", deleted);

    Events fromB = new Events();
    fromB.watch = store.watchPrefix(p, b, fromB.queue::add, fromB.errors::complete);
    assertEvent(fromB.next(), WatchEvent.Type.PUT, p + "b", b);
    assertEvent(fromB.next(), WatchEvent.Type.DELETE, p + "a", deleted);

    long live = await(store.put(p + "c", bytes("3")));
    assertEvent(all.next(), WatchEvent.Type.PUT, p + "c", live);
    assertEvent(fromB.next(), WatchEvent.Type.PUT, p + "c", live);
    all.watch.cancel();
    fromB.watch.cancel();
  }

  @Test
  void watchFromACompactedRevisionFailsWithCompacted() throws Exception {
    long old = await(store.put(p + "a", bytes("1")));
    await(store.put(p + "a", bytes("2")));
    compactThrough(old);

    Events events = new Events();
    store.watchPrefix(p, old, events.queue::add, events.errors::complete);
    assertReason(events.error(), Reason.COMPACTED);
    assertThat(events.queue).isEmpty();
  }

  @Test
  void closingTheStoreEndsWatchesWithClosed() throws Exception {
    Events events = new Events();
    events.watch = store.watchPrefix(p, 0, events.queue::add, events.errors::complete);
    events.awaitLive(store, p);

    await(store.close());
    assertReason(events.error(), Reason.CLOSED);
    assertReason(awaitFailure(store.get(p + "a")), Reason.CLOSED);
  }

  @Test
  void resultsAndEventsArriveOnTheCallersContext() {
    Caller caller = caller();
    Promise<Boolean> resultOnCaller = Promise.promise();
    Promise<Boolean> eventOnCaller = Promise.promise();
    caller.run(() -> store.getPrefix(p)
        .compose(range -> {
          store.watchPrefix(p, range.revision() + 1,
              event -> eventOnCaller.tryComplete(caller.isCurrent()), eventOnCaller::tryFail);
          return store.put(p + "a", bytes("1"));
        })
        .onComplete(put -> resultOnCaller.complete(put.succeeded() && caller.isCurrent())));
    assertThat(await(resultOnCaller.future())).isTrue();
    assertThat(await(eventOnCaller.future())).isTrue();
  }

  // ---------------------------------------------------------------------------------------------
  // leases

  @Test
  void revokingALeaseDeletesItsKeysInOneRevision() throws Exception {
    Lease lease = grant(30);
    await(store.put(p + "a", bytes("1"), lease.id()));
    long bound = await(store.put(p + "b", bytes("2"), lease.id()));
    await(store.put(p + "free", bytes("3")));
    assertThat(await(store.get(p + "a")).orElseThrow().lease()).isEqualTo(lease.id());

    Events events = new Events();
    events.watch = store.watchPrefix(p, bound + 2, events.queue::add, events.errors::complete);
    await(lease.revoke());

    assertThat(await(store.getPrefix(p)).kvs()).extracting(KeyValue::key).containsExactly(p + "free");
    WatchEvent first = events.next();
    WatchEvent second = events.next();
    assertThat(List.of(first.kv().key(), second.kv().key())).containsExactlyInAnyOrder(p + "a", p + "b");
    assertThat(first.type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(second.type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(first.kv().modRevision()).isEqualTo(second.kv().modRevision()).isEqualTo(bound + 2);
    events.watch.cancel();
  }

  @Test
  void anEndedLeaseCannotBeUsedOrRevokedAgain() {
    Lease lease = grant(30);
    await(lease.revoke());
    assertReason(awaitFailure(store.put(p + "a", bytes("1"), lease.id())), Reason.LEASE_NOT_FOUND);
    assertReason(awaitFailure(store.txn(Txn.builder()
        .then(new Op.Put(p + "b", bytes("1"), lease.id()))
        .build())), Reason.LEASE_NOT_FOUND);
    assertReason(awaitFailure(lease.revoke()), Reason.LEASE_NOT_FOUND);
    assertThat(await(store.getPrefix(p)).kvs()).isEmpty();
  }

  @Test
  void aKeptAliveLeaseOutlivesItsTtl() {
    Lease lease = grant(1);
    await(store.put(p + "alive", bytes("1"), lease.id()));
    Duration beyondTtl = Duration.ofSeconds(lease.ttlSeconds()).plusMillis(1500);
    holdsFor(beyondTtl, "the key of a kept-alive lease exists",
        () -> await(store.get(p + "alive")).isPresent());
  }

  // ---------------------------------------------------------------------------------------------
  // election

  @Test
  void aLoneCampaignerLeads() {
    Lease lease = grant(30);
    Leadership leadership = await(store.election().campaign(p + "election", lease, bytes("node-1")));

    Leader leader = leadership.leader();
    assertThat(leader.name()).isEqualTo(p + "election");
    assertThat(new String(leader.proposal(), StandardCharsets.UTF_8)).isEqualTo("node-1");
    KeyValue key = await(store.get(leader.key())).orElseThrow();
    assertThat(leader.key()).startsWith(p + "election/");
    assertThat(key.lease()).isEqualTo(lease.id());
    assertThat(leader.revision()).isEqualTo(key.createRevision());

    Leader reported = await(store.election().leader(p + "election")).orElseThrow();
    assertThat(reported.key()).isEqualTo(leader.key());
    assertThat(reported.revision()).isEqualTo(leader.revision());
    assertThat(new String(reported.proposal(), StandardCharsets.UTF_8)).isEqualTo("node-1");
  }

  @Test
  void aSecondCampaignerWaitsUntilTheLeaderResignsThenLeadsWithAHigherRevision() {
    String election = p + "election";
    List<Leader> observed = new CopyOnWriteArrayList<>();
    CompletableFuture<Throwable> observeErrors = new CompletableFuture<>();
    Watch observer = store.election().observe(election, observed::add, observeErrors::complete);

    Leadership first = await(store.election().campaign(election, grant(30), bytes("one")));
    Future<Leadership> second = store.election().campaign(election, grant(30), bytes("two"));
    awaitCandidates(election, 2);
    assertThat(second.isComplete()).as("waits while the first leads").isFalse();
    assertThat(proposal(await(store.election().leader(election)).orElseThrow())).isEqualTo("one");

    await(first.resign());
    Leadership promoted = await(second);
    assertThat(proposal(promoted.leader())).isEqualTo("two");
    assertThat(promoted.leader().revision()).isGreaterThan(first.leader().revision());
    assertThat(await(store.election().leader(election)).orElseThrow().key()).isEqualTo(promoted.leader().key());

    until("observe saw both leaders", () -> observed.size() >= 2);
    assertThat(observed).extracting(MetaStoreContractTest::proposal).containsExactly("one", "two");
    assertThat(observed).extracting(Leader::revision)
        .containsExactly(first.leader().revision(), promoted.leader().revision());
    assertThat(observeErrors).isNotDone();
    observer.cancel();
  }

  @Test
  void writesFencedByALeadershipAreRefusedOnceItEndsAndAnotherLeads() {
    String election = p + "election";
    Lease firstLease = grant(30);
    Lease secondLease = grant(30);
    Leadership first = await(store.election().campaign(election, firstLease, bytes("one")));
    AtomicInteger refusals = new AtomicInteger();
    MetaStore deposedSoon = new LeaderFencedMetaStore(store, first.leader(), refusals::incrementAndGet);
    long written = await(deposedSoon.put(p + "k", bytes("v1")));
    assertThat(await(deposedSoon.txn(Txn.builder().when(Compare.modRevision(p + "k", written)).then(Op.put(p + "k", bytes("v2")))
        .build())).succeeded()).as("a leader writes").isTrue();
    // The caller's own compare failing is a plain failure, with the caller's own reads only.
    TxnResult lostRace = await(deposedSoon.txn(Txn.builder().when(Compare.modRevision(p + "k", written)).then(Op.put(p + "k", bytes("x")))
        .otherwise(Op.get(p + "k")).build()));
    assertThat(lostRace.succeeded()).isFalse();
    assertThat(lostRace.gets()).hasSize(1);
    assertThat(refusals).hasValue(0);

    Future<Leadership> second = store.election().campaign(election, secondLease, bytes("two"));
    awaitCandidates(election, 2);
    await(firstLease.revoke()); // as the lease of a leader paused past its TTL ends
    MetaStore successor = new LeaderFencedMetaStore(store, await(second).leader(), () -> { });

    for (Future<?> attempt : List.of(deposedSoon.put(p + "k", bytes("zombie")), deposedSoon.delete(p + "k"),
        deposedSoon.txn(Txn.builder().then(Op.put(p + "other", bytes("zombie"))).build()))) {
      assertThat(awaitFailure(attempt)).isInstanceOf(MetaStoreException.class)
          .satisfies(e -> assertThat(((MetaStoreException) e).reason()).isEqualTo(Reason.NOT_LEADER));
    }
    assertThat(refusals).hasValue(3);
    assertThat(await(store.get(p + "k")).map(KeyValue::valueAsString)).contains("v2");
    assertThat(await(store.get(p + "other"))).isEmpty();
    assertThat(await(successor.delete(p + "k"))).as("the new leader writes").isTrue();
  }

  @Test
  void aLeaderWhoseLeaseEndsLosesLeadership() {
    String election = p + "election";
    Lease firstLease = grant(30);
    Lease secondLease = grant(30);
    await(store.election().campaign(election, firstLease, bytes("one")));
    Future<Leadership> second = store.election().campaign(election, secondLease, bytes("two"));
    awaitCandidates(election, 2);

    await(firstLease.revoke());
    assertThat(proposal(await(second).leader())).isEqualTo("two");
    assertThat(proposal(await(store.election().leader(election)).orElseThrow())).isEqualTo("two");

    await(secondLease.revoke());
    assertThat(await(store.election().leader(election))).isEmpty();
  }

  @Test
  void aWaitingCampaignFailsWhenItsLeaseEnds() {
    String election = p + "election";
    await(store.election().campaign(election, grant(30), bytes("one")));
    Lease waitingLease = grant(30);
    Future<Leadership> waiting = store.election().campaign(election, waitingLease, bytes("two"));
    awaitCandidates(election, 2);

    await(waitingLease.revoke());
    assertReason(awaitFailure(waiting), Reason.LEASE_NOT_FOUND);
    assertThat(proposal(await(store.election().leader(election)).orElseThrow())).isEqualTo("one");
  }

  @Test
  void aWithdrawnCampaignFailsAndItsLeaseNeverLeads() {
    String election = p + "election";
    Leadership first = await(store.election().campaign(election, grant(30), bytes("one")));
    Lease withdrawnLease = grant(30);
    Future<Leadership> withdrawn = store.election().campaign(election, withdrawnLease, bytes("two"));
    awaitCandidates(election, 2);

    await(store.election().withdraw(election, withdrawnLease));
    assertReason(awaitFailure(withdrawn), Reason.LEASE_NOT_FOUND);
    await(first.resign());
    assertThat(await(store.election().leader(election))).as("the withdrawn lease is still alive but not a candidate").isEmpty();
  }

  @Test
  void aLeaderThatWithdrawsHandsOverToTheNextCampaigner() {
    String election = p + "election";
    Lease leaderLease = grant(30);
    await(store.election().campaign(election, leaderLease, bytes("one")));
    Future<Leadership> second = store.election().campaign(election, grant(30), bytes("two"));
    awaitCandidates(election, 2);

    await(store.election().withdraw(election, leaderLease));
    assertThat(proposal(await(second).leader())).isEqualTo("two");
    await(store.election().withdraw(election, leaderLease)); // nothing left to withdraw: still fine
    assertThat(proposal(await(store.election().leader(election)).orElseThrow())).isEqualTo("two");
  }

  // ---------------------------------------------------------------------------------------------

  protected Lease grant(long ttlSeconds) {
    Lease lease = await(store.grantLease(ttlSeconds));
    grantedLeases.add(lease);
    return lease;
  }

  /** The future's failure; fails the test if it succeeds or does not complete in time. */
  protected Throwable awaitFailure(Future<?> future) {
    return await(future.<Throwable>transform(ar -> ar.succeeded()
        ? Future.failedFuture(new AssertionError("expected a failure, got " + ar.result()))
        : Future.succeededFuture(ar.cause())));
  }

  /** Polls {@code condition} until it holds, letting time elapse in between; fails after {@link Await#TIMEOUT} of it. */
  protected void until(String what, BooleanSupplier condition) {
    if (!holdsWithin(Await.TIMEOUT, condition)) {
      throw new AssertionError("not within " + Await.TIMEOUT + ": " + what);
    }
  }

  private boolean holdsWithin(Duration within, BooleanSupplier condition) {
    for (Duration waited = Duration.ZERO; !condition.getAsBoolean(); waited = waited.plus(POLL)) {
      if (waited.compareTo(within) >= 0) {
        return false;
      }
      elapse(POLL);
    }
    return true;
  }

  /** Checks {@code invariant} repeatedly while {@code duration} elapses, failing as soon as it is broken. */
  private void holdsFor(Duration duration, String what, BooleanSupplier invariant) {
    for (Duration waited = Duration.ZERO; ; waited = waited.plus(POLL)) {
      if (!invariant.getAsBoolean()) {
        throw new AssertionError("broken after " + waited + ": " + what);
      }
      if (waited.compareTo(duration) >= 0) {
        return;
      }
      elapse(POLL);
    }
  }

  protected static String proposal(Leader leader) {
    return new String(leader.proposal(), StandardCharsets.UTF_8);
  }

  protected static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  protected static void assertReason(Throwable error, Reason reason) {
    assertThat(error).isInstanceOf(MetaStoreException.class);
    assertThat(((MetaStoreException) error).reason()).isEqualTo(reason);
  }

  protected static void assertEvent(WatchEvent event, WatchEvent.Type type, String key, long revision) {
    assertThat(event.type()).isEqualTo(type);
    assertThat(event.kv().key()).isEqualTo(key);
    assertThat(event.kv().modRevision()).isEqualTo(revision);
  }

  private static Txn createIfAbsent(String key, String value) {
    return Txn.builder()
        .when(Compare.absent(key))
        .then(Op.put(key, bytes(value)))
        .otherwise(Op.get(key))
        .build();
  }

  /** Campaigns put their key before they wait: this many keys means this many campaigners queued. */
  protected void awaitCandidates(String election, int count) {
    until(count + " campaigners in " + election,
        () -> await(store.getPrefix(election + "/")).kvs().size() == count);
  }

  /** Collects what a watch delivers (on whatever thread the store calls back), for the test to wait on. */
  protected final class Events {
    final BlockingQueue<WatchEvent> queue = new LinkedBlockingQueue<>();
    final CompletableFuture<Throwable> errors = new CompletableFuture<>();
    Watch watch;

    WatchEvent next() {
      boolean arrived = holdsWithin(Await.TIMEOUT, () -> !queue.isEmpty());
      String failure = errors.isDone() ? "; the watch failed: " + errors.join() : "";
      assertThat(arrived).as("a watch event within " + Await.TIMEOUT + failure).isTrue();
      return queue.poll();
    }

    Throwable error() {
      until("the watch ends with an error", errors::isDone);
      return errors.join();
    }

    /**
     * A watch "from now" starts asynchronously: write a probe under the prefix until the watch reports it,
     * then drop the probe events, so that every later write is seen.
     */
    void awaitLive(MetaStore store, String prefix) {
      boolean live = false;
      for (Duration waited = Duration.ZERO; !live; waited = waited.plus(PROBE_WAIT)) {
        assertThat(waited).as("watch under " + prefix + " live in time").isLessThan(Await.TIMEOUT);
        await(store.put(prefix + "probe", bytes("probe")));
        live = holdsWithin(PROBE_WAIT, () -> !queue.isEmpty());
      }
      await(store.delete(prefix + "probe"));
      long probeRevision = await(store.getPrefix(prefix)).revision();
      // Drain up to and including the probe's delete.
      WatchEvent event = queue.poll();
      while (event.kv().modRevision() < probeRevision) {
        event = next();
      }
    }
  }
}
