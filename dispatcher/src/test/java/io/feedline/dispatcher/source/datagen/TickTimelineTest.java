package io.feedline.dispatcher.source.datagen;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.testing.TestSeeds;
import io.feedline.common.tso.TimestampOracle;
import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TickTimelineTest {

  private static final long SEED = TestSeeds.seed(11);
  private static final String REPLAY = TestSeeds.replay(SEED, TickTimelineTest.class);
  /** 2026-12-01T00:00:00Z: where a changefeed started by the cluster's oracle begins. */
  private static final long NOW_MS = 1_795_996_800_000L;
  private static final long[] RATES = {1, 7, 999, 1000, 1001, 2500, 33_333, DatagenSpec.MAX_RATE};

  @Test
  void aTickSitsAtItsMillisecondWithItsIndexInThatMillisecondAsTheLogicalPart() {
    TickTimeline thousand = TickTimeline.forRate(1000);
    assertThat(thousand.commitTs(5)).isEqualTo(5L << TimestampOracle.LOGICAL_BITS);
    TickTimeline fourPerMs = TickTimeline.forRate(4000);
    // Ticks 8..11 fall in millisecond 2: logical 0..3.
    assertThat(fourPerMs.commitTs(8)).isEqualTo(2L << TimestampOracle.LOGICAL_BITS);
    assertThat(fourPerMs.commitTs(11)).isEqualTo(2L << TimestampOracle.LOGICAL_BITS | 3);
    TickTimeline onePerTwoSeconds = new TickTimeline(1);
    assertThat(TimestampOracle.physicalMillis(onePerTwoSeconds.commitTs(3))).isEqualTo(3000);
    assertThat(TickTimeline.forRate(0)).as("unthrottled: one tick per millisecond").isEqualTo(thousand);
  }

  @Test
  void mappingRoundTripsAndIsStrictlyIncreasingAtEveryRate() {
    SplittableRandom random = new SplittableRandom(SEED);
    for (long rate : RATES) {
      TickTimeline timeline = new TickTimeline(rate);
      long nowTick = timeline.producedBy(NOW_MS);
      long[] starts = {1, rate - 1, rate, rate + 1, nowTick - 3, timeline.maxTick() - 5, 1 + random.nextLong(nowTick)};
      for (long start : starts) {
        long previous = start <= 1 ? 0 : timeline.commitTs(start - 1);
        for (long tick = Math.max(1, start); tick <= Math.min(start + 2_000, timeline.maxTick()); tick++) {
          String at = "rate " + rate + " tick " + tick + "; " + REPLAY;
          long ts = timeline.commitTs(tick);
          assertThat(ts).as(at).isGreaterThan(previous);
          BigInteger exactPhysical = BigInteger.valueOf(tick).multiply(BigInteger.valueOf(1000)).divide(BigInteger.valueOf(rate));
          assertThat(TimestampOracle.physicalMillis(ts)).as(at).isEqualTo(exactPhysical.longValueExact());
          assertThat(timeline.lastTickAtOrBelow(ts)).as(at).isEqualTo(tick);
          assertThat(timeline.lastTickAtOrBelow(ts - 1)).as(at).isEqualTo(tick - 1);
          // Any ts between two ticks belongs to the lower one.
          long between = previous + 1 + random.nextLong(ts - previous);
          assertThat(timeline.lastTickAtOrBelow(between)).as(at + " ts " + between).isEqualTo(between == ts ? tick : tick - 1);
          // Produced exactly at the millisecond the clock reaches it.
          long at1 = timeline.producedAt(tick);
          assertThat(timeline.producedBy(at1)).as(at).isGreaterThanOrEqualTo(tick);
          assertThat(timeline.producedBy(at1 - 1)).as(at).isLessThan(tick);
          assertThat(at1).as(at).isBetween(TimestampOracle.physicalMillis(ts), TimestampOracle.physicalMillis(ts) + 1);
          previous = ts;
        }
      }
      assertThat(timeline.commitTs(timeline.maxTick())).isPositive();
    }
  }

  @Test
  void aTsoStartTsOfNowLandsOnTheTicksOfNow() {
    for (long rate : RATES) {
      TickTimeline timeline = new TickTimeline(rate);
      long startTs = NOW_MS << TimestampOracle.LOGICAL_BITS | 17;
      long tick = timeline.lastTickAtOrBelow(startTs);
      assertThat(timeline.commitTs(tick)).isLessThanOrEqualTo(startTs);
      assertThat(timeline.commitTs(tick + 1)).isGreaterThan(startTs);
      assertThat(TimestampOracle.physicalMillis(timeline.commitTs(tick + 1))).isBetween(NOW_MS, NOW_MS + 1000 / Math.min(rate, 1000));
    }
  }

  @Test
  void theTicksInAWindowAreThoseAboveItsStartUpToItsEnd() {
    for (long rate : RATES) {
      TickTimeline timeline = new TickTimeline(rate);
      assertThat(timeline.ticksIn(timeline.commitTs(5), timeline.commitTs(9)).toArray()).as("rate %d", rate).containsExactly(6, 7, 8, 9);
      assertThat(timeline.ticksIn(timeline.commitTs(5) - 1, timeline.commitTs(5)).toArray()).as("rate %d", rate).containsExactly(5);
      assertThat(timeline.ticksIn(timeline.commitTs(9), timeline.commitTs(9)).toArray()).as("rate %d", rate).isEmpty();
      assertThat(timeline.ticksIn(0, timeline.commitTs(2)).toArray()).as("rate %d: tick 0 is the origin", rate).containsExactly(1, 2);
    }
  }
}
