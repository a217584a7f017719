package io.feedline.common.id;

import io.feedline.proto.DispatcherId;
import java.util.random.RandomGenerator;

/**
 * A dispatcher's 128-bit id as a value: map key, log field ({@code 32 hex digits}) and wire
 * {@link DispatcherId}, the same on the maintainer and the dispatcher side. The maintainer draws a fresh
 * one for every dispatcher it creates, so a re-created span never reuses an old id and a delayed message
 * about the old dispatcher can never be mistaken for the new one.
 */
public record DispatcherKey(long high, long low) {

  public static DispatcherKey of(DispatcherId id) {
    return new DispatcherKey(id.getHigh(), id.getLow());
  }

  /** A random id; never the all-zero id, which is what an unset proto field reads as. */
  public static DispatcherKey random(RandomGenerator random) {
    long high;
    long low;
    do {
      high = random.nextLong();
      low = random.nextLong();
    } while (high == 0 && low == 0);
    return new DispatcherKey(high, low);
  }

  /** The all-zero id is what an unset proto field reads as: no dispatcher. */
  public boolean isMissing() {
    return high == 0 && low == 0;
  }

  public DispatcherId proto() {
    return DispatcherId.newBuilder().setHigh(high).setLow(low).build();
  }

  @Override
  public String toString() {
    return String.format("%016x%016x", high, low);
  }
}
