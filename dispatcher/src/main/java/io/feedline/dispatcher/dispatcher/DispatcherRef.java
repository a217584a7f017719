package io.feedline.dispatcher.dispatcher;

import io.feedline.proto.DispatcherId;

/**
 * A dispatcher's 128-bit id as a value: map key, log field ({@code 32 hex digits}) and wire
 * {@link DispatcherId}. Ids are random per dispatcher, so a re-created span never reuses one.
 */
public record DispatcherRef(long high, long low) {

  public static DispatcherRef of(DispatcherId id) {
    return new DispatcherRef(id.getHigh(), id.getLow());
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
