package io.feedline.common.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.time.ManualScheduler;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ResenderTest {

  @Test
  void sendsNowThenEveryIntervalUntilStopped() {
    ManualScheduler scheduler = new ManualScheduler(0);
    Resender<String> resender = new Resender<>(scheduler, 500);
    AtomicInteger sends = new AtomicInteger();

    resender.start("cf1", sends::incrementAndGet);
    assertThat(sends).hasValue(1);
    scheduler.advance(499);
    assertThat(sends).hasValue(1);
    scheduler.advance(1);
    assertThat(sends).hasValue(2);
    scheduler.advance(1000);
    assertThat(sends).hasValue(4);

    assertThat(resender.stop("cf1")).isTrue();
    scheduler.advance(5000);
    assertThat(sends).hasValue(4);
    assertThat(resender.isActive("cf1")).isFalse();
    assertThat(resender.stop("cf1")).isFalse();
  }

  @Test
  void restartingAKeyReplacesItsSender() {
    ManualScheduler scheduler = new ManualScheduler(0);
    Resender<String> resender = new Resender<>(scheduler, 100);
    AtomicInteger first = new AtomicInteger();
    AtomicInteger second = new AtomicInteger();
    resender.start("k", first::incrementAndGet);
    resender.start("k", second::incrementAndGet);
    scheduler.advance(300);
    assertThat(first).hasValue(1);
    assertThat(second).hasValue(4);
    assertThat(resender.activeKeys()).containsExactly("k");
    resender.stopAll();
    assertThat(scheduler.pending()).isZero();
  }
}
