package io.feedline.coordinator.changefeed;

import static io.feedline.common.testing.Await.await;
import static io.feedline.common.testing.Await.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.LeaderFencedMetaStore;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.Txn;
import io.feedline.common.testing.InterceptingMetaStore;
import io.feedline.coordinator.changefeed.ChangefeedStoreException.Reason;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.RunningError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The registry and epoch-bump rules, run against the embedded store and a real etcd by subclasses. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ChangefeedStoreContractTest {

  protected Vertx vertx;
  private MetaStore raw;
  private InterceptingMetaStore store;
  private MetaKeys keys;
  private ChangefeedStore registry;

  protected abstract MetaStore openStore(Vertx vertx);

  @BeforeAll
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stopVertx() {
    await(vertx.close());
  }

  @BeforeEach
  void open() {
    raw = openStore(vertx);
    store = new InterceptingMetaStore(raw);
    // Every test in its own cluster namespace: the etcd subclass shares one server per class.
    keys = new MetaKeys("t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    registry = new ChangefeedStore(store, keys);
  }

  @AfterEach
  void close() {
    await(raw.close());
  }

  private static ChangefeedInfo info(String id, long epoch) {
    return ChangefeedInfo.newBuilder().setId(id).setSourceUri("datagen://?tables=1").setSinkUri("blackhole://")
        .setState(ChangefeedState.CHANGEFEED_STATE_NORMAL).setEpoch(epoch).build();
  }

  private ChangefeedRecord create(String id, long epoch) {
    return await(registry.create(info(id, epoch), ChangefeedStatus.newBuilder().setCheckpointTs(100).build()));
  }

  @Test
  void aDeposedCoordinatorCanNeitherBumpAnEpochNorWriteACheckpoint() {
    String election = keys.coordinatorElection();
    MetaStore.Lease oldLease = await(raw.grantLease(30));
    MetaStore.Lease newLease = await(raw.grantLease(30));
    MetaStore.Leadership old = await(raw.election().campaign(election, oldLease, "old".getBytes(StandardCharsets.UTF_8)));
    AtomicInteger refused = new AtomicInteger();
    ChangefeedStore deposed = new ChangefeedStore(new LeaderFencedMetaStore(raw, old.leader(), refused::incrementAndGet), keys);
    ChangefeedRecord created = await(deposed.create(info("cf1", 1), ChangefeedStatus.newBuilder().setCheckpointTs(100).build()));

    // The old coordinator is paused past its lease's TTL (the lease ends), and another one is elected.
    Future<MetaStore.Leadership> next = raw.election().campaign(election, newLease, "new".getBytes(StandardCharsets.UTF_8));
    await(oldLease.revoke());
    ChangefeedStore successor = new ChangefeedStore(new LeaderFencedMetaStore(raw, await(next).leader(), () -> { }), keys);

    // It resumes, not having noticed, and acts on what it knew.
    Throwable bump = awaitFailure(deposed.bump(EpochBump.of(created.id(), 2)));
    Throwable checkpoint = awaitFailure(deposed.writeStatus(created, ChangefeedStatus.newBuilder().setCheckpointTs(200).build()));
    for (Throwable refusal : List.of(bump, checkpoint)) {
      assertThat(refusal).isInstanceOf(MetaStoreException.class);
      assertThat(((MetaStoreException) refusal).reason()).isEqualTo(MetaStoreException.Reason.NOT_LEADER);
    }
    assertThat(refused).hasValue(2);
    ChangefeedRecord persisted = await(registry.load(created.id())).orElseThrow();
    assertThat(persisted.info().getEpoch()).as("no epoch was bumped").isEqualTo(1);
    assertThat(persisted.status().getCheckpointTs()).as("no checkpoint was written").isEqualTo(100);
    assertThat(await(successor.bump(EpochBump.of(created.id(), 2))).info().getEpoch()).as("the new coordinator writes").isEqualTo(2);
  }

  @Test
  void createIsGuardedByBothKeysBeingAbsent() {
    ChangefeedRecord created = create("cf1", 1);
    assertThat(created.info().getId()).isEqualTo("cf1");

    Throwable again = awaitFailure(registry.create(info("cf1", 9), ChangefeedStatus.getDefaultInstance()));
    assertThat(again).isInstanceOfSatisfying(ChangefeedStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ALREADY_EXISTS));

    // A leftover status alone also blocks a create: the two records are born together or not at all.
    await(store.put(keys.changefeedStatus(ChangefeedId.of("cf2")), ChangefeedStatus.getDefaultInstance().toByteArray()));
    assertThat(awaitFailure(registry.create(info("cf2", 1), ChangefeedStatus.getDefaultInstance())))
        .isInstanceOfSatisfying(ChangefeedStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ALREADY_EXISTS));
    assertThat(await(store.get(keys.changefeedInfo(ChangefeedId.of("cf2"))))).isEmpty();

    assertThat(await(registry.loadAll())).extracting(r -> r.info().getId()).containsExactly("cf1");
    assertThat(await(registry.load(ChangefeedId.of("cf1")))).get().extracting(ChangefeedRecord::epoch).isEqualTo(1L);
  }

  @Test
  void bumpTakesTheLargerOfCandidateAndPersistedPlusOne() {
    create("cf1", 50);
    ChangefeedId id = ChangefeedId.of("cf1");
    assertThat(await(registry.bump(EpochBump.of(id, 10))).epoch()).isEqualTo(51);
    assertThat(await(registry.bump(EpochBump.of(id, 1_000))).epoch()).isEqualTo(1_000);
    assertThat(await(registry.load(id))).get().extracting(ChangefeedRecord::epoch).isEqualTo(1_000L);
  }

  @Test
  void epochsCompareUnsignedAndOverflowIsAnErrorNotAWrap() {
    create("big", Long.MIN_VALUE); // 2^63
    ChangefeedId big = ChangefeedId.of("big");
    assertThat(await(registry.bump(EpochBump.of(big, 5))).epoch()).isEqualTo(Long.MIN_VALUE + 1);

    create("max", Epochs.MAX);
    ChangefeedId max = ChangefeedId.of("max");
    assertThat(awaitFailure(registry.bump(EpochBump.of(max, 5))))
        .isInstanceOfSatisfying(ChangefeedStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.EPOCH_OVERFLOW));
    assertThat(await(registry.load(max))).get().extracting(ChangefeedRecord::epoch).isEqualTo(Epochs.MAX);
  }

  @Test
  void resumeWritesStateErrorStatusAndEpochInOneTransaction() {
    ChangefeedRecord r = create("cf1", 7);
    ChangefeedInfo failed = r.info().toBuilder().setState(ChangefeedState.CHANGEFEED_STATE_FAILED)
        .setError(RunningError.newBuilder().setCode("sink").setMessage("down")).build();
    r = await(registry.writeInfo(r, failed));
    r = await(registry.writeStatus(r, r.status().toBuilder().setProgress(ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING).build()));

    int before = store.txnCount();
    ChangefeedRecord resumed = await(registry.bump(EpochBump.resume(ChangefeedId.of("cf1"), 3, 555)));
    assertThat(store.txnCount() - before).as("one read and one write").isEqualTo(2);

    ChangefeedRecord persisted = await(registry.load(ChangefeedId.of("cf1"))).orElseThrow();
    for (ChangefeedRecord x : List.of(resumed, persisted)) {
      assertThat(x.epoch()).isEqualTo(8);
      assertThat(x.info().getState()).isEqualTo(ChangefeedState.CHANGEFEED_STATE_NORMAL);
      assertThat(x.info().hasError()).isFalse();
      assertThat(x.status().getCheckpointTs()).isEqualTo(555);
      assertThat(x.status().getProgress()).isEqualTo(ChangefeedProgress.CHANGEFEED_PROGRESS_NONE);
    }
    assertThat(resumed.infoRevision()).isEqualTo(persisted.infoRevision());
    assertThat(resumed.statusRevision()).isEqualTo(persisted.statusRevision());
  }

  @Test
  void aConcurrentWriteBetweenReadAndCasIsRetriedOnTheFreshRecord() {
    ChangefeedRecord r = create("cf1", 5);
    AtomicBoolean interfered = new AtomicBoolean();
    store.beforeTxn(txn -> {
      // Just before the bump's CAS (a txn with compares), another coordinator persists epoch 100.
      if (!txn.compares().isEmpty() && interfered.compareAndSet(false, true)) {
        return raw.put(keys.changefeedInfo(r.id()), info("cf1", 100).toByteArray());
      }
      return Future.succeededFuture();
    });
    ChangefeedRecord bumped = await(registry.bump(EpochBump.of(r.id(), 6)));
    assertThat(interfered).isTrue();
    assertThat(bumped.epoch()).as("max(candidate, fresh persisted + 1)").isEqualTo(101);
    assertThat(await(registry.load(r.id()))).get().extracting(ChangefeedRecord::epoch).isEqualTo(101L);
  }

  @Test
  void aStatusWriteMadeConcurrentlyFailsTheBumpThatWritesStatusButNotOneThatDoesNot() {
    ChangefeedRecord r = create("cf1", 5);
    AtomicBoolean interfered = new AtomicBoolean();
    store.beforeTxn(txn -> !txn.compares().isEmpty() && interfered.compareAndSet(false, true)
        ? raw.put(keys.changefeedStatus(r.id()), ChangefeedStatus.newBuilder().setCheckpointTs(999).build().toByteArray())
        : Future.succeededFuture());
    int before = store.txnCount();
    ChangefeedRecord resumed = await(registry.bump(EpochBump.resume(r.id(), 1, 200)));
    assertThat(store.txnCount() - before).as("read, conflicting CAS, retried CAS").isEqualTo(3);
    assertThat(resumed.status().getCheckpointTs()).isEqualTo(200);

    interfered.set(false);
    before = store.txnCount();
    await(registry.bump(EpochBump.of(r.id(), 1)));
    assertThat(interfered).isTrue();
    assertThat(store.txnCount() - before).as("the status key is not compared when not written").isEqualTo(2);
    assertThat(await(registry.load(r.id()))).get().extracting(x -> x.status().getCheckpointTs())
        .as("the concurrent status write is kept").isEqualTo(999L);
  }

  @Test
  void endlessConflictsEndInAConflictErrorAfterBoundedRetries() {
    ChangefeedRecord r = create("cf1", 5);
    long[] epoch = {100};
    store.beforeTxn(txn -> txn.compares().isEmpty() ? Future.succeededFuture()
        : raw.put(keys.changefeedInfo(r.id()), info("cf1", epoch[0]++).toByteArray()));
    assertThat(awaitFailure(registry.bump(EpochBump.of(r.id(), 1))))
        .isInstanceOfSatisfying(ChangefeedStoreException.class, e -> assertThat(e.reason()).isEqualTo(Reason.CONFLICT));
    assertThat(epoch[0] - 100).isEqualTo(ChangefeedStore.MAX_ATTEMPTS);
  }

  @Test
  void bumpAllPacksManyChangefeedsPerTransaction() {
    List<EpochBump> bumps = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      create("cf" + i, i);
      bumps.add(EpochBump.of(ChangefeedId.of("cf" + i), 1));
    }
    bumps.add(EpochBump.of(ChangefeedId.of("missing"), 1));
    int before = store.txnCount();
    List<ChangefeedStore.BumpResult> results = await(registry.bumpAll(bumps));
    // 151 ids read in 3 transactions, 150 written in 3.
    assertThat(store.txnCount() - before).isEqualTo(6);
    assertThat(results).hasSize(151);
    for (int i = 0; i < 150; i++) {
      assertThat(results.get(i).succeeded()).isTrue();
      assertThat(results.get(i).record().epoch()).isEqualTo(i + 1);
    }
    assertThat(results.get(150).error().reason()).isEqualTo(Reason.NOT_FOUND);
    assertThat(await(registry.loadAll())).allSatisfy(r -> assertThat(r.epoch()).isEqualTo(Long.parseLong(r.info().getId().substring(2)) + 1));
  }

  @Test
  void inABatchOnlyTheConflictingChangefeedIsRetriedAlone() {
    List<EpochBump> bumps = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      create("cf" + i, 10);
      bumps.add(EpochBump.of(ChangefeedId.of("cf" + i), 1));
    }
    AtomicBoolean interfered = new AtomicBoolean();
    store.beforeTxn(txn -> !txn.compares().isEmpty() && interfered.compareAndSet(false, true)
        ? raw.put(keys.changefeedInfo(ChangefeedId.of("cf3")), info("cf3", 500).toByteArray())
        : Future.succeededFuture());
    int before = store.txnCount();
    List<ChangefeedStore.BumpResult> results = await(registry.bumpAll(bumps));
    // read; failed batch write; cf3 alone; the other nine together.
    assertThat(store.txnCount() - before).isEqualTo(4);
    assertThat(results).allSatisfy(r -> assertThat(r.succeeded()).isTrue());
    assertThat(results).filteredOn(r -> r.id().value().equals("cf3")).extracting(r -> r.record().epoch()).containsExactly(501L);
    assertThat(results).filteredOn(r -> !r.id().value().equals("cf3")).extracting(r -> r.record().epoch()).containsOnly(11L);
  }

  @Test
  void statusWritesSkipOnlyTheConflictingChangefeed() {
    ChangefeedRecord a = create("a", 1);
    ChangefeedRecord b = create("b", 1);
    await(raw.put(keys.changefeedStatus(b.id()), ChangefeedStatus.newBuilder().setCheckpointTs(7).build().toByteArray()));
    var written = await(registry.writeStatuses(List.of(
        new ChangefeedStore.StatusWrite(a, ChangefeedStatus.newBuilder().setCheckpointTs(300).build()),
        new ChangefeedStore.StatusWrite(b, ChangefeedStatus.newBuilder().setCheckpointTs(300).build()))));
    assertThat(written).containsOnlyKeys(a.id());
    assertThat(await(registry.load(a.id()))).get().extracting(r -> r.status().getCheckpointTs()).isEqualTo(300L);
    assertThat(await(registry.load(b.id()))).get().extracting(r -> r.status().getCheckpointTs()).isEqualTo(7L);
  }

  @Test
  void deleteRemovesBothRecordsUnlessTheInfoChanged() {
    ChangefeedRecord r = create("cf1", 1);
    ChangefeedRecord bumped = await(registry.bump(EpochBump.of(r.id(), 1)));
    assertThat(awaitFailure(registry.delete(r))).isInstanceOf(ChangefeedStoreException.class);
    await(registry.delete(bumped));
    assertThat(await(registry.load(r.id()))).isEqualTo(Optional.empty());
    assertThat(await(store.get(keys.changefeedStatus(r.id())))).isEmpty();
  }

  @Test
  void txnsOfTheBumpNeverExceedEtcdsOperationLimit() {
    List<EpochBump> bumps = new ArrayList<>();
    for (int i = 0; i < 70; i++) {
      create("cf" + i, 1);
      bumps.add(EpochBump.resume(ChangefeedId.of("cf" + i), 1, 10));
    }
    List<Txn> seen = new ArrayList<>();
    store.beforeTxn(txn -> {
      seen.add(txn);
      return Future.succeededFuture();
    });
    await(registry.bumpAll(bumps));
    assertThat(seen).allSatisfy(t -> {
      assertThat(t.compares().size()).isLessThanOrEqualTo(128);
      assertThat(t.success().size()).isLessThanOrEqualTo(128);
      assertThat(t.failure().size()).isLessThanOrEqualTo(128);
    });
  }
}
