package io.feedline.dispatcher.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MemoryQuotaTest {

  private final MemoryQuota quota = new MemoryQuota(1_000);

  @Test
  void oneChangefeedMayUseTheWholeQuotaAndNoMore() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Reservation r1 = a.tryReserve(600);
    MemoryQuota.Reservation r2 = a.tryReserve(400);
    assertThat(r1).isNotNull();
    assertThat(r2).isNotNull();
    assertThat(a.tryReserve(1)).as("the quota is full").isNull();
    assertThat(quota.used()).isEqualTo(1_000);
    r1.release();
    r1.release();
    assertThat(quota.used()).as("a release is returned once").isEqualTo(400);
    assertThat(a.held()).isEqualTo(400);
  }

  @Test
  void aFirehoseCannotTakeTheShareOfAQuieterChangefeed() {
    MemoryQuota.Account firehose = quota.open("firehose");
    MemoryQuota.Account trickle = quota.open("trickle");
    while (firehose.tryReserve(100) != null) {
      // takes what it may
    }
    assertThat(firehose.held()).as("an equal share of two").isEqualTo(500);
    assertThat(trickle.tryReserve(100)).as("the quieter one still has room").isNotNull();
    assertThat(firehose.share()).isEqualTo(500);
  }

  @Test
  void aChangefeedHoldingNothingMayReadOnceEvenWhenTheNodeIsAtTheQuota() {
    MemoryQuota.Account firehose = quota.open("firehose");
    MemoryQuota.Reservation early = firehose.tryReserve(900);
    early.block(); // its span waits at a DDL: nothing of it comes back soon
    assertThat(firehose.forceReserve(300)).as("all it holds is blocked: one more read").isNotNull();
    MemoryQuota.Account newcomer = quota.open("newcomer");
    assertThat(quota.used()).isEqualTo(1_200);
    assertThat(newcomer.tryReserve(256)).as("the node is past the quota, but the newcomer holds nothing").isNotNull();
    assertThat(newcomer.tryReserve(100)).as("one read at a time while the node is past the quota").isNull();
    assertThat(firehose.tryReserve(1)).as("the older one, past its share of two, reserves nothing until it gave back").isNull();
  }

  @Test
  void aReservationLargerThanTheShareIsClampedSoItNeverWaitsForever() {
    MemoryQuota.Account a = quota.open("a");
    quota.open("b");
    MemoryQuota.Reservation r = a.tryReserve(5_000);
    assertThat(r.bytes()).isEqualTo(500);
  }

  @Test
  void settlingReturnsWhatWasNotReadAndTakesWhatWasReadBeyondTheEstimate() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Reservation r = a.tryReserve(300);
    r.settle(100);
    assertThat(quota.used()).isEqualTo(100);
    r.settle(1_200);
    assertThat(quota.used()).as("what has been read is counted even past the quota").isEqualTo(1_200);
    assertThat(a.tryReserve(1)).isNull();
    r.release();
    assertThat(quota.used()).isZero();
    assertThat(a.held()).isZero();
  }

  @Test
  void aWaitingChangefeedIsWokenByAReleaseOrByAnotherLeaving() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Account b = quota.open("b");
    MemoryQuota.Reservation held = a.tryReserve(500);
    AtomicInteger woken = new AtomicInteger();
    assertThat(a.tryReserve(100)).isNull();
    a.whenRoom(100, woken::incrementAndGet);
    assertThat(woken).hasValue(0);
    b.close();
    assertThat(woken).as("its share grew to the whole quota").hasValue(1);
    assertThat(a.tryReserve(500)).isNotNull();

    assertThat(a.tryReserve(1)).isNull();
    a.whenRoom(100, woken::incrementAndGet);
    held.release();
    assertThat(woken).hasValue(2);
    held.release();
    assertThat(woken).as("one action per wait").hasValue(2);
  }

  @Test
  void aReleaseWakesOnlyTheWaitsItMakesRoomFor() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Account b = quota.open("b");
    MemoryQuota.Reservation big = a.tryReserve(500);
    MemoryQuota.Reservation small = b.tryReserve(100);
    MemoryQuota.Reservation rest = b.tryReserve(400);
    AtomicInteger woken = new AtomicInteger();
    a.whenRoom(300, woken::incrementAndGet);
    small.release();
    assertThat(woken).as("100 bytes free in b's share make no room in a's").hasValue(0);
    big.settle(150);
    assertThat(woken).hasValue(1);
    rest.release();
  }

  @Test
  void anAccountHoldingOnlyBlockedReadsMayForceOneMore() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Reservation r1 = a.tryReserve(600);
    MemoryQuota.Reservation r2 = a.tryReserve(400);
    assertThat(a.forceReserve(100)).as("an unblocked read will return its bytes").isNull();
    r1.block();
    AtomicInteger woken = new AtomicInteger();
    a.whenRoom(100, woken::incrementAndGet);
    assertThat(woken).hasValue(0);
    r2.block();
    assertThat(woken).as("the last unblocked read blocked").hasValue(1);
    MemoryQuota.Reservation forced = a.forceReserve(100);
    assertThat(forced).isNotNull();
    assertThat(quota.used()).isEqualTo(1_100);
    assertThat(a.forceReserve(100)).as("one forced read at a time").isNull();
    r1.release();
    r2.release();
    forced.release();
    assertThat(quota.used()).isZero();
    assertThat(a.tryReserve(1_000)).isNotNull();
  }

  @Test
  void roomThatAppearedBeforeTheWaitWasRegisteredWakesAtOnce() {
    MemoryQuota.Account a = quota.open("a");
    MemoryQuota.Reservation r = a.tryReserve(1_000);
    assertThat(a.tryReserve(1)).isNull();
    r.release();
    AtomicInteger woken = new AtomicInteger();
    a.whenRoom(100, woken::incrementAndGet);
    assertThat(woken).hasValue(1);
  }

  @Test
  void aClosedAccountReservesNothingAndAZeroQuotaIsRefused() {
    MemoryQuota.Account a = quota.open("a");
    a.close();
    assertThat(a.tryReserve(1)).isNull();
    assertThatThrownBy(() -> new MemoryQuota(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
