package io.feedline.common.metastore;

/** A metastore failure with a reason a caller can act on. */
public class MetaStoreException extends RuntimeException {

  public enum Reason {
    /** The requested watch revision is older than the retained history. */
    COMPACTED,
    /** The lease does not exist or has expired. */
    LEASE_NOT_FOUND,
    /** The store is closed. */
    CLOSED,
    /** The store could not be reached or answered with an error. */
    UNAVAILABLE,
    /** A write fenced by a leadership that has ended ({@link LeaderFencedMetaStore}): nothing was written. */
    NOT_LEADER
  }

  private final Reason reason;

  public MetaStoreException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public MetaStoreException(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }
}
