package io.feedline.common.metastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LeaseValidityTest {

  private static final long S = TimeUnit.SECONDS.toNanos(1);

  @Test
  void theMarginIsAFifthOfTheTtlButAtLeastASecond() {
    assertThat(LeaseValidity.safetyMargin(Duration.ofSeconds(10))).isEqualTo(Duration.ofSeconds(2));
    assertThat(LeaseValidity.safetyMargin(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(1));
    assertThat(LeaseValidity.safetyMargin(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(1));
    assertThat(new LeaseValidity(Duration.ofSeconds(10), 0).validFor()).isEqualTo(Duration.ofSeconds(8));
    assertThat(new LeaseValidity(Duration.ofSeconds(2), 0).keepAliveInterval()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void validFromTheGrantThenFromEachAcknowledgedKeepAliveCountedFromWhenItWasSent() {
    LeaseValidity v = new LeaseValidity(Duration.ofSeconds(10), 100 * S);
    assertThat(v.remainingNanos(100 * S)).isEqualTo(8 * S);
    assertThat(v.remainingNanos(108 * S)).isZero();

    v.acknowledged(104 * S); // sent at 104 s, whenever its answer came
    assertThat(v.remainingNanos(111 * S)).isEqualTo(S);
    assertThat(v.remainingNanos(112 * S + 1)).isNegative();
  }

  @Test
  void aLateAnswerToAnOlderKeepAliveNeverShortensTheValidity() {
    LeaseValidity v = new LeaseValidity(Duration.ofSeconds(10), 0);
    v.acknowledged(5 * S);
    v.acknowledged(3 * S);
    assertThat(v.remainingNanos(5 * S)).isEqualTo(8 * S);
  }

  @Test
  void aFiveSecondOutageRightAfterAKeepAliveIsRiddenThroughWithTheDefaultTtl() {
    LeaseValidity v = new LeaseValidity(Duration.ofSeconds(10), 0);
    long lastSent = 20 * S;
    v.acknowledged(lastSent);
    // The store goes away just before the next keep-alive is due and comes back 5 s later.
    long back = lastSent + v.keepAliveInterval().toNanos() + 5 * S;
    assertThat(v.remainingNanos(back)).isPositive();
  }
}
