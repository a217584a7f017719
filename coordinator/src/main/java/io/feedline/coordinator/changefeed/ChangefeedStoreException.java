package io.feedline.coordinator.changefeed;

/** A changefeed registry operation that could not be done, with a reason callers (and the API) act on. */
public final class ChangefeedStoreException extends RuntimeException {

  public enum Reason {
    NOT_FOUND,
    ALREADY_EXISTS,
    /** The record changed concurrently more often than the bounded retries allow. */
    CONFLICT,
    /** The persisted epoch is 2^64-1. */
    EPOCH_OVERFLOW,
    /** A stored record does not parse. */
    CORRUPT
  }

  private final Reason reason;

  public ChangefeedStoreException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
