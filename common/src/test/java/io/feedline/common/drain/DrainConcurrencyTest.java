package io.feedline.common.drain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DrainConcurrencyTest {

  @Test
  void atLeastTenThenOnePercentRoundedUp() {
    assertThat(DrainConcurrency.limit(0)).isEqualTo(10);
    assertThat(DrainConcurrency.limit(1000)).isEqualTo(10);
    assertThat(DrainConcurrency.limit(1001)).isEqualTo(11);
    assertThat(DrainConcurrency.limit(10_000)).isEqualTo(100);
    assertThat(DrainConcurrency.limit(100_001)).isEqualTo(1001);
  }
}
