package io.feedline.common.metastore.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.MetaStore.Leadership;
import io.feedline.common.metastore.MetaStore.Lease;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.time.ManualScheduler;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The simulator's controls on the store: faults, what clients see of them, and determinism. */
class SimulatedMetaStoreTest {

  private static final long LATENCY = 5;
  private static final long ROUND_TRIP = 2 * LATENCY;

  private final ManualScheduler scheduler = new ManualScheduler(0);
  private final SimulatedMetaStore server = new SimulatedMetaStore(scheduler, () -> LATENCY);
  private final SimulatedMetaStore.Client a = server.client("a");
  private final SimulatedMetaStore.Client b = server.client("b");

  @Test
  void answersAndEventsComeInTasksOfTheSchedulerNeverInline() {
    SimulatedMetaStore instant = new SimulatedMetaStore(scheduler, () -> 0);
    SimulatedMetaStore.Client client = instant.client("instant");
    List<WatchEvent> events = new ArrayList<>();
    client.watchPrefix("/k/", 0, events::add, error -> { });
    scheduler.runDue();

    Future<Long> put = client.put("/k/a", bytes("1"));
    assertThat(put.isComplete()).isFalse();
    assertThat(instant.revision()).as("not even sent yet").isZero();
    scheduler.runDue();
    assertThat(put.result()).isEqualTo(1);
    assertThat(events).hasSize(1);
    assertThat(scheduler.nowMillis()).isZero();

    client.close();
    Future<?> afterClose = client.get("/k/a");
    assertThat(afterClose.isComplete()).isFalse();
    scheduler.runDue();
    assertReason(afterClose.cause(), Reason.CLOSED);
  }

  @Test
  void requestsFailAsUnreachableWhileDisconnectedAndTheOutageIsReported() {
    await(a.put("/k/a", bytes("1")));
    a.disconnect();
    long disconnectedAt = scheduler.nowMillis();

    assertReason(awaitFailure(a.get("/k/a")), Reason.UNAVAILABLE);
    assertThat(a.outage()).hasValueSatisfying(outage ->
        assertThat(outage.since().toEpochMilli()).isEqualTo(disconnectedAt + ROUND_TRIP));
    assertThat(await(b.get("/k/a"))).as("other clients are not concerned").isPresent();
    assertThat(b.outage()).isEmpty();

    a.reconnect();
    assertThat(await(a.get("/k/a"))).isPresent();
    assertThat(a.outage()).isEmpty();
  }

  @Test
  void aRequestInFlightWhenTheConnectionBreaksFailsThoughItMayHaveBeenApplied() {
    Future<Long> put = a.put("/k/a", bytes("1"));
    scheduler.advance(LATENCY); // applied on arrival; the answer is on its way back
    a.disconnect();
    assertReason(awaitFailure(put), Reason.UNAVAILABLE);
    assertThat(server.peek("/k/a")).isPresent();
  }

  /** The rule of {@link SimulatedMetaStore.Client}: lost a full TTL after the last acknowledged keep-alive was sent. */
  @Test
  void aDisconnectedClientTakesItsLeaseAsLostJustBeforeTheServerExpiresIt() {
    Lease lease = await(a.grantLease(3));
    await(a.put("/k/held", bytes("1"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    AtomicLong lostAt = new AtomicLong();
    lease.onLost(v -> {
      lost.incrementAndGet();
      lostAt.set(scheduler.nowMillis());
    });
    AtomicLong deletedAt = new AtomicLong();
    server.onCommit(events -> events.stream()
        .filter(e -> e.type() == WatchEvent.Type.DELETE && e.kv().key().equals("/k/held"))
        .forEach(e -> deletedAt.set(scheduler.nowMillis())));

    scheduler.advance(2_500);
    a.disconnect();
    long disconnectedAt = scheduler.nowMillis();
    scheduler.advance(10_000);

    assertThat(lost).hasValue(1);
    assertThat(deletedAt.get()).as("the server expired the lease").isPositive();
    assertThat(lostAt.get()).as("the keep-alive's latency to the server earlier").isEqualTo(deletedAt.get() - LATENCY);
    assertThat(lostAt.get()).as("not before a full TTL after the last keep-alive that could be answered")
        .isGreaterThanOrEqualTo(disconnectedAt - 1_000 - ROUND_TRIP + 3_000);

    a.reconnect();
    assertReason(awaitFailure(a.put("/k/again", bytes("1"), lease.id())), Reason.LEASE_NOT_FOUND);
    scheduler.advance(10_000);
    assertThat(lost).as("once").hasValue(1);
  }

  @Test
  void aDisconnectShorterThanTheLeaseValidityCostsNothing() {
    Lease lease = await(a.grantLease(3));
    await(a.put("/k/held", bytes("1"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());

    a.disconnect();
    scheduler.advance(1_500);
    a.reconnect();
    scheduler.advance(20_000);

    assertThat(lost).hasValue(0);
    assertThat(server.peek("/k/held")).isPresent();
    assertThat(a.outage()).isEmpty();
  }

  @Test
  void aWatchResumesAfterAReconnectWithNothingLostOrRepeated() {
    List<String> seen = new ArrayList<>();
    List<Throwable> errors = new ArrayList<>();
    a.watchPrefix("/k/", 0, e -> seen.add(e.type() + " " + e.kv().key()), errors::add);
    List<String> leaders = new ArrayList<>();
    a.election().observe("/e", leader -> leaders.add(string(leader.proposal())), errors::add);
    Leadership first = await(b.election().campaign("/e", await(b.grantLease(30)), bytes("b1")));
    await(b.put("/k/before", bytes("1")));

    b.put("/k/in-flight", bytes("2"));
    scheduler.advance(LATENCY + 1); // written; the event is on its way to a
    a.disconnect();
    await(b.delete("/k/before"));
    await(first.resign());
    await(b.election().campaign("/e", await(b.grantLease(30)), bytes("b2")));
    scheduler.advance(1_000);
    assertThat(seen).containsExactly("PUT /k/before");

    a.reconnect();
    scheduler.advance(1_000);
    assertThat(seen).containsExactly("PUT /k/before", "PUT /k/in-flight", "DELETE /k/before");
    assertThat(leaders).containsExactly("b1", "b2");
    assertThat(errors).isEmpty();
  }

  @Test
  void aWatchResumingFromACompactedRevisionEndsWithCompacted() {
    List<Throwable> errors = new ArrayList<>();
    a.watchPrefix("/k/", 0, e -> { }, errors::add);
    scheduler.advance(ROUND_TRIP);
    a.disconnect();
    await(b.put("/k/a", bytes("1")));
    server.compact(server.revision());
    a.reconnect();
    scheduler.advance(ROUND_TRIP);
    assertThat(errors).singleElement().satisfies(e -> assertReason(e, Reason.COMPACTED));
  }

  @Test
  void aCrashedClientsLeaseExpiresAfterItsTtlAndItsKeysVanishWithWatchEvents() {
    Lease lease = await(a.grantLease(2));
    await(a.put("/k/held", bytes("1"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());
    List<Long> deletesSeenByB = new ArrayList<>();
    b.watchPrefix("/k/", 0, e -> {
      if (e.type() == WatchEvent.Type.DELETE) {
        deletesSeenByB.add(scheduler.nowMillis());
      }
    }, e -> { });
    scheduler.advance(1_000);

    Future<?> pending = a.get("/k/held");
    a.crash();
    long crashedAt = scheduler.nowMillis();
    scheduler.advance(1_000);
    assertThat(server.peek("/k/held")).as("still within the TTL").isPresent();
    scheduler.advance(5_000);

    assertThat(server.peek("/k/held")).isEmpty();
    assertThat(deletesSeenByB).singleElement().satisfies(at -> assertThat(at)
        .isBetween(crashedAt + 2_000 - 2_000 / 3, crashedAt + 2_000 + ROUND_TRIP));
    assertThat(lost).as("a dead process hears nothing").hasValue(0);
    assertThat(pending.isComplete()).isFalse();
    assertThat(a.get("/k/held").isComplete()).isFalse();
  }

  @Test
  void aStoppedStoreFailsEveryClientAndExpiresNothingUntilItRestartsWithFreshDeadlines() {
    Lease lease = await(a.grantLease(2));
    await(a.put("/k/held", bytes("1"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());

    server.unavailable(true);
    assertReason(awaitFailure(a.get("/k/held")), Reason.UNAVAILABLE);
    assertReason(awaitFailure(b.put("/k/b", bytes("1"))), Reason.UNAVAILABLE);
    scheduler.advance(10_000);
    assertThat(server.peek("/k/held")).as("a stopped store counts no time").isPresent();
    assertThat(lost).as("the holder could not renew for a whole TTL").hasValue(1);
    assertThat(b.outage()).isPresent();

    server.unavailable(false);
    long restartedAt = scheduler.nowMillis();
    assertThat(await(b.get("/k/held"))).isPresent();
    assertThat(b.outage()).isEmpty();
    scheduler.advance(1_999 - (scheduler.nowMillis() - restartedAt));
    assertThat(server.peek("/k/held")).as("a fresh TTL from the restart").isPresent();
    scheduler.advance(1);
    assertThat(server.peek("/k/held")).as("nobody kept it alive").isEmpty();
  }

  @Test
  void aShortStoreOutageCostsNoLease() {
    Lease lease = await(a.grantLease(3));
    await(a.put("/k/held", bytes("1"), lease.id()));
    AtomicInteger lost = new AtomicInteger();
    lease.onLost(v -> lost.incrementAndGet());

    server.unavailable(true);
    scheduler.advance(1_500);
    server.unavailable(false);
    scheduler.advance(20_000);

    assertThat(lost).hasValue(0);
    assertThat(server.peek("/k/held")).isPresent();
  }

  @Test
  void theWaitingCampaignerTakesOverOnceTheCrashedLeadersLeaseExpires() {
    Lease leaderLease = await(a.grantLease(5));
    Leadership first = await(a.election().campaign("/e", leaderLease, bytes("a")));
    Future<Leadership> second = b.election().campaign("/e", await(b.grantLease(5)), bytes("b"));
    scheduler.advance(1_000);
    assertThat(second.isComplete()).isFalse();

    a.crash();
    long crashedAt = scheduler.nowMillis();
    scheduler.advance(5_000 - 5_000 / 3 - ROUND_TRIP);
    assertThat(second.isComplete()).as("the crashed leader's lease still runs").isFalse();
    Leadership promoted = await(second);

    assertThat(scheduler.nowMillis()).isLessThanOrEqualTo(crashedAt + 5_000 + ROUND_TRIP);
    assertThat(string(promoted.leader().proposal())).isEqualTo("b");
    assertThat(promoted.leader().revision()).isGreaterThan(first.leader().revision());
    assertThat(string(await(b.election().leader("/e")).orElseThrow().proposal())).isEqualTo("b");
  }

  @Test
  void theSameScriptWithTheSameSeedHappensTheSameWay() {
    long seed = new SplittableRandom().nextLong();
    List<String> first = script(seed);
    assertThat(script(seed)).as("replay of seed " + seed).isEqualTo(first);
    assertThat(first).as("seed " + seed).hasSizeGreaterThan(20)
        .anyMatch(line -> line.contains("lost")).anyMatch(line -> line.contains("leads"));
  }

  /**
   * Three nodes campaign and write with random latencies while one is cut off, one crashes and the store
   * restarts; returns everything observed, with its simulated time.
   */
  private static List<String> script(long seed) {
    ManualScheduler clock = new ManualScheduler(0);
    SplittableRandom random = new SplittableRandom(seed);
    SimulatedMetaStore store = new SimulatedMetaStore(clock, () -> random.nextLong(20));
    List<String> trace = new ArrayList<>();
    store.onCommit(events -> events.forEach(e -> trace.add(clock.nowMillis() + " commit " + e.type() + " "
        + e.kv().key() + "@" + e.kv().modRevision())));
    List<SimulatedMetaStore.Client> nodes = new ArrayList<>();
    for (String name : List.of("n1", "n2", "n3")) {
      SimulatedMetaStore.Client node = store.client(name);
      nodes.add(node);
      node.watchPrefix("/data/", 0, e -> trace.add(clock.nowMillis() + " " + name + " sees " + e.type() + " "
          + e.kv().key()), e -> trace.add(clock.nowMillis() + " " + name + " watch ends " + e.getMessage()));
      node.grantLease(2).onSuccess(lease -> {
        lease.onLost(v -> trace.add(clock.nowMillis() + " " + name + " lost"));
        node.election().campaign("/leader", lease, bytes(name)).onComplete(won -> trace.add(clock.nowMillis() + " "
            + name + (won.succeeded() ? " leads" : " campaign fails " + won.cause().getMessage())));
      });
      clock.periodic(700, () -> node.put("/data/" + name, bytes(Long.toString(clock.nowMillis())))
          .onComplete(ar -> trace.add(clock.nowMillis() + " " + name + " put " + (ar.succeeded() ? ar.result() : "failed"))));
    }
    clock.schedule(1_000, () -> nodes.get(0).disconnect());
    clock.schedule(4_000, () -> nodes.get(0).reconnect());
    clock.schedule(5_000, () -> nodes.get(1).crash());
    clock.schedule(6_000, () -> store.unavailable(true));
    clock.schedule(6_500, () -> store.unavailable(false));
    clock.advance(15_000);
    return trace;
  }

  // ---------------------------------------------------------------------------------------------

  private <T> T await(Future<T> future) {
    for (int i = 0; i < 10_000 && !future.isComplete(); i++) {
      scheduler.advance(1);
    }
    assertThat(future.isComplete()).as("completes within 10 s of simulated time").isTrue();
    assertThat(future.succeeded()).as("succeeds: %s", future.cause()).isTrue();
    return future.result();
  }

  private Throwable awaitFailure(Future<?> future) {
    for (int i = 0; i < 10_000 && !future.isComplete(); i++) {
      scheduler.advance(1);
    }
    assertThat(future.failed()).as("fails within 10 s of simulated time").isTrue();
    return future.cause();
  }

  private static void assertReason(Throwable error, Reason reason) {
    assertThat(error).isInstanceOf(MetaStoreException.class);
    assertThat(((MetaStoreException) error).reason()).isEqualTo(reason);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String string(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
