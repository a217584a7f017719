package io.feedline.dispatcher.source.datagen;

import io.feedline.common.tso.TimestampOracle;
import java.util.stream.LongStream;

/**
 * Where datagen's ticks sit in the cluster's timestamp space ({@link TimestampOracle}: {@code physical ms
 * << 18 | logical}), so a changefeed started at a TSO start ts sees the upstream of that moment.
 *
 * <p>Tick {@code k} ({@code k >= 1}; tick 0 is the origin, ts 0) is produced at wall-clock millisecond
 * {@code k * 1000 / rate}. Its commit ts has the physical part {@code floor(k * 1000 / rate)} and the
 * logical part {@code k - firstTickOf(physical)}, the index of {@code k} among the ticks of that
 * millisecond (at most {@code ceil(rate / 1000) <= 1000} of them, far below the 2^18 logical range). The
 * mapping is strictly increasing, so "the events above ts" and "the ticks above
 * {@link #lastTickAtOrBelow(long)}" are the same thing, whatever ts a subscription starts from.
 *
 * <p>Arithmetic is split into whole seconds and the rest so that no product overflows for any
 * timestamp and any rate up to {@link DatagenSpec#MAX_RATE}.
 *
 * @param ticksPerSecond the density of ticks in time; {@code rate=0} (unthrottled) uses
 *     {@link #UNTHROTTLED_DENSITY}
 */
public record TickTimeline(long ticksPerSecond) {

  /** Ticks per second that give an unthrottled upstream ({@code rate=0}) its timestamps: one per millisecond. */
  public static final long UNTHROTTLED_DENSITY = 1000;

  public TickTimeline {
    if (ticksPerSecond < 1 || ticksPerSecond > DatagenSpec.MAX_RATE) {
      throw new IllegalArgumentException("ticks per second must be within 1.." + DatagenSpec.MAX_RATE + ": " + ticksPerSecond);
    }
  }

  /** The timeline of a datagen {@code rate} (0 = unthrottled). */
  public static TickTimeline forRate(long rate) {
    return new TickTimeline(rate == 0 ? UNTHROTTLED_DENSITY : rate);
  }

  /** The commit ts of tick {@code tick} (at most {@link #maxTick()}). */
  public long commitTs(long tick) {
    long physical = (tick / ticksPerSecond) * 1000 + (tick % ticksPerSecond) * 1000 / ticksPerSecond;
    return physical << TimestampOracle.LOGICAL_BITS | (tick - firstTickOf(physical));
  }

  /** The last tick whose commit ts is at or below {@code ts} (0 when none is), for {@code ts >= 0}. */
  public long lastTickAtOrBelow(long ts) {
    long physical = TimestampOracle.physicalMillis(ts);
    long first = firstTickOf(physical);
    long firstOfNext = firstTickOf(physical + 1);
    if (first == firstOfNext) {
      return first - 1; // no tick in this millisecond: the last one is in an earlier millisecond
    }
    return Math.min(first + TimestampOracle.logical(ts), firstOfNext - 1);
  }

  /** The last tick produced by wall-clock millisecond {@code nowMillis}: {@code floor(now * rate / 1000)}. */
  public long producedBy(long nowMillis) {
    long now = Math.max(0, nowMillis);
    return (now / 1000) * ticksPerSecond + (now % 1000) * ticksPerSecond / 1000;
  }

  /** The ticks whose commit ts lie in {@code (fromTs, untilTs]}, in order: what a reader from {@code fromTs} sees up to {@code untilTs}. */
  public LongStream ticksIn(long fromTs, long untilTs) {
    return LongStream.rangeClosed(lastTickAtOrBelow(fromTs) + 1, lastTickAtOrBelow(untilTs));
  }

  /** The wall-clock millisecond at which tick {@code tick} is produced: {@code ceil(tick * 1000 / rate)}. */
  public long producedAt(long tick) {
    return (tick / ticksPerSecond) * 1000 + ceilDiv((tick % ticksPerSecond) * 1000, ticksPerSecond);
  }

  /** The highest tick with a representable commit ts. */
  public long maxTick() {
    return lastTickAtOrBelow(Long.MAX_VALUE);
  }

  /** The first tick in millisecond {@code ms}: {@code ceil(ms * rate / 1000)}. */
  private long firstTickOf(long ms) {
    return (ms / 1000) * ticksPerSecond + ceilDiv((ms % 1000) * ticksPerSecond, 1000);
  }

  /** For non-negative operands (Java 17 has no Math.ceilDiv). */
  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
