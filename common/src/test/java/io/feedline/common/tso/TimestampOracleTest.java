package io.feedline.common.tso;

import static io.feedline.common.testing.Await.await;
import static io.feedline.common.testing.Await.awaitFailure;
import static io.feedline.common.tso.TimestampOracle.logical;
import static io.feedline.common.tso.TimestampOracle.physicalMillis;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.embedded.EmbeddedMetaStore;
import io.feedline.common.testing.ManualClock;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TimestampOracleTest {

  private static final String KEY = "/feedline/tso/window";
  private static final Duration WINDOW = Duration.ofSeconds(3);
  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

  private Vertx vertx;
  private MetaStore store;
  private final ManualClock clock = new ManualClock(T0);

  @BeforeEach
  void openStore() {
    vertx = Vertx.vertx();
    Path dir = Path.of("target", "tso", UUID.randomUUID().toString());
    store = await(EmbeddedMetaStore.open(vertx, dir, EmbeddedMetaStore.Options.defaults()));
  }

  @AfterEach
  void closeStore() {
    await(store.close());
    await(vertx.close());
  }

  @Test
  void followsTheClockAndCountsWithinAMillisecond() {
    TimestampOracle oracle = start(clock);
    long first = await(oracle.next());
    long second = await(oracle.next());
    clock.advance(Duration.ofMillis(5));
    long third = await(oracle.next());

    assertThat(physicalMillis(first)).isEqualTo(T0.toEpochMilli());
    assertThat(logical(first)).isZero();
    assertThat(physicalMillis(second)).isEqualTo(T0.toEpochMilli());
    assertThat(logical(second)).isEqualTo(1);
    assertThat(physicalMillis(third)).isEqualTo(T0.toEpochMilli() + 5);
    assertThat(logical(third)).isZero();
  }

  @Test
  void servesOnlyBelowTheWindowItPersisted() {
    TimestampOracle oracle = start(clock);
    long persisted = persistedBound();
    assertThat(persisted).isEqualTo(T0.toEpochMilli() + WINDOW.toMillis());

    // Far past the window: the request waits for a new window to be persisted first.
    clock.advance(Duration.ofSeconds(10));
    long late = await(oracle.next());
    assertThat(physicalMillis(late)).isEqualTo(clock.millis());
    assertThat(persistedBound()).isGreaterThan(physicalMillis(late));
  }

  @Test
  void staysMonotonicAcrossARestartEvenWithTheClockSetBack() {
    TimestampOracle before = start(clock);
    long last = 0;
    for (int i = 0; i < 100; i++) {
      last = await(before.next());
    }

    long sameClock = await(start(clock).next());
    assertThat(sameClock).isGreaterThan(last);

    clock.rewind(Duration.ofHours(1));
    long clockSetBack = await(start(clock).next());
    assertThat(clockSetBack).isGreaterThan(sameClock);
  }

  @Test
  void staysMonotonicWhenTheClockJumpsBackALittle() {
    assertMonotonicAcrossJumpBack(Duration.ofMillis(3));
  }

  @Test
  void staysMonotonicWhenTheClockJumpsBackALot() {
    assertMonotonicAcrossJumpBack(Duration.ofDays(1));
  }

  private void assertMonotonicAcrossJumpBack(Duration jump) {
    TimestampOracle oracle = start(clock);
    long before = await(oracle.next());
    clock.rewind(jump);
    long previous = before;
    for (int i = 0; i < 1_000; i++) {
      long next = await(oracle.next());
      assertThat(next).isGreaterThan(previous);
      previous = next;
    }
    assertThat(physicalMillis(previous)).as("waits for the clock instead of following it back")
        .isEqualTo(physicalMillis(before));

    clock.advance(jump.plusMillis(1));
    long caughtUp = await(oracle.next());
    assertThat(caughtUp).isGreaterThan(previous);
    assertThat(physicalMillis(caughtUp)).isEqualTo(clock.millis());
  }

  @Test
  void logicalOverflowMovesToTheNextMillisecond() {
    TimestampOracle oracle = start(clock);
    long last = 0;
    for (long i = 0; i <= TimestampOracle.MAX_LOGICAL; i++) {
      last = await(oracle.next());
    }
    assertThat(physicalMillis(last)).isEqualTo(T0.toEpochMilli());
    assertThat(logical(last)).isEqualTo(TimestampOracle.MAX_LOGICAL);

    long rolled = await(oracle.next());
    assertThat(physicalMillis(rolled)).isEqualTo(T0.toEpochMilli() + 1);
    assertThat(logical(rolled)).isZero();
  }

  @Test
  void aWaitingRequestCompletesOnItsCallersContext() throws Exception {
    TimestampOracle oracle = start(clock);
    clock.advance(Duration.ofSeconds(10));
    Context caller = vertx.getOrCreateContext();
    CompletableFuture<Boolean> onCaller = new CompletableFuture<>();
    caller.runOnContext(v -> oracle.next()
        .onComplete(ts -> onCaller.complete(ts.succeeded() && Vertx.currentContext() == caller)));
    assertThat(onCaller.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void concurrentRequestsAreDistinctAndIncreasingForEachCaller() throws Exception {
    // The clock moves a millisecond every few reads and the window is 5 ms: requests keep running into
    // the bound and queue behind extensions while other threads ask too.
    TimestampOracle oracle = await(TimestampOracle.start(store, KEY, new RacingClock(), Duration.ofMillis(5)));
    int callers = 4;
    int perCaller = 2_000;
    ExecutorService threads = Executors.newFixedThreadPool(callers);
    CountDownLatch go = new CountDownLatch(1);
    List<java.util.concurrent.Future<List<Future<Long>>>> requests = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      requests.add(threads.submit(() -> {
        go.await();
        List<Future<Long>> requested = new ArrayList<>();
        for (int i = 0; i < perCaller; i++) {
          requested.add(oracle.next());
        }
        return requested;
      }));
    }
    go.countDown();

    Set<Long> distinct = new HashSet<>();
    for (java.util.concurrent.Future<List<Future<Long>>> request : requests) {
      List<Future<Long>> requested = request.get(10, TimeUnit.SECONDS);
      List<Long> timestamps = await(Future.all(requested)).<Long>list();
      assertThat(timestamps).as("in the order they were asked for").isSorted().doesNotHaveDuplicates();
      distinct.addAll(timestamps);
    }
    threads.shutdown();
    assertThat(distinct).hasSize(callers * perCaller);
    assertThat(persistedBound()).isGreaterThan(physicalMillis(Collections.max(distinct)));
  }

  @Test
  void aSecondOracleOnTheSameKeyFencesTheFirst() {
    TimestampOracle first = start(clock);
    TimestampOracle second = start(clock);
    long fromSecond = await(second.next());

    // The first serves from the window it holds, then needs to extend it and finds it taken.
    clock.advance(WINDOW);
    assertThat(awaitFailure(first.next())).isInstanceOf(TimestampOracleFencedException.class);
    assertThat(awaitFailure(first.next())).isInstanceOf(TimestampOracleFencedException.class);
    assertThat(await(second.next())).isGreaterThan(fromSecond);
  }

  /** Every fourth reading is a millisecond later. */
  private static final class RacingClock extends Clock {
    private final AtomicLong reads = new AtomicLong();

    @Override
    public long millis() {
      return T0.toEpochMilli() + reads.incrementAndGet() / 4;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private TimestampOracle start(Clock oracleClock) {
    return await(TimestampOracle.start(store, KEY, oracleClock, WINDOW));
  }

  private long persistedBound() {
    return Long.parseLong(await(store.get(KEY)).orElseThrow().valueAsString());
  }
}
