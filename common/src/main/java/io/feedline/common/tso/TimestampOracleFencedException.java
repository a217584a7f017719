package io.feedline.common.tso;

/**
 * Another oracle extended the persisted timestamp window: this one may no longer serve. Its owner should
 * stop serving timestamps, and start a new oracle only once it is sure it is the only server again.
 */
public final class TimestampOracleFencedException extends RuntimeException {

  public TimestampOracleFencedException(String message) {
    super(message);
  }
}
