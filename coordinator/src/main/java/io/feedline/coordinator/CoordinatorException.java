package io.feedline.coordinator;

/** An admin request the coordinator refuses, with the reason the API and CLI show. */
public final class CoordinatorException extends RuntimeException {

  public enum Reason {
    NOT_FOUND,
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    /** The changefeed's state does not allow the operation (e.g. update while running). */
    FAILED_PRECONDITION,
    /** Busy with another change of the same changefeed: retry. */
    UNAVAILABLE
  }

  private final Reason reason;

  public CoordinatorException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
