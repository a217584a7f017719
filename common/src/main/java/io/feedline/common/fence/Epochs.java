package io.feedline.common.fence;

/**
 * Changefeed epochs are unsigned 64-bit values (protobuf {@code uint64}) carried in Java longs; every
 * comparison must be unsigned, and {@code 0} means "the sender predates epochs".
 */
public final class Epochs {

  /** The sender predates epochs (rolling-upgrade compatibility only). */
  public static final long COMPAT = 0L;

  /** The largest epoch: 2^64-1. Bumping past it is an error, never a wrap. */
  public static final long MAX = -1L;

  private Epochs() {}

  public static int compare(long a, long b) {
    return Long.compareUnsigned(a, b);
  }

  public static boolean isNewer(long candidate, long than) {
    return Long.compareUnsigned(candidate, than) > 0;
  }

  /**
   * The epoch to persist for a new ownership: {@code max(candidate, persisted + 1)}.
   *
   * @throws EpochOverflowException when {@code persisted} is already the largest epoch
   */
  public static long next(long persisted, long candidate) {
    if (persisted == MAX) {
      throw new EpochOverflowException(persisted);
    }
    long successor = persisted + 1;
    return isNewer(candidate, successor) ? candidate : successor;
  }

  public static String format(long epoch) {
    return Long.toUnsignedString(epoch);
  }

  /** The persisted epoch is 2^64-1; no newer ownership can be expressed. */
  public static final class EpochOverflowException extends IllegalStateException {
    public EpochOverflowException(long persisted) {
      super("changefeed epoch overflow: persisted epoch " + Long.toUnsignedString(persisted) + " is the maximum");
    }
  }
}
