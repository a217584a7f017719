package io.feedline.common.drain;

/**
 * How many drain moves may be in flight at once when {@code n} items (maintainers on the target, or one
 * maintainer's dispatchers on it) are left: at least 10, and 1% of the work beyond that, so a drain of
 * 100,000 dispatchers is not throttled to ten at a time while a small one does not stampede.
 */
public final class DrainConcurrency {

  public static final int MIN = 10;

  private DrainConcurrency() {}

  public static int limit(long n) {
    long perCent = (n + 99) / 100;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN, perCent));
  }
}
