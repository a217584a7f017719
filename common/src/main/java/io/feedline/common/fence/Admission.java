package io.feedline.common.fence;

/** The outcome of checking one control message against a {@link Fence}. */
public enum Admission {
  /** From the current owner at the current epoch. */
  ACCEPT(true),
  /** A strictly newer epoch (or the first owner): ownership moves to the sender. */
  TAKEOVER(true),
  /** The epoch is below the highest seen. */
  STALE_EPOCH(false),
  /** The epoch matches but another node owns it. */
  WRONG_OWNER(false),
  /** A bootstrap no newer than the epoch that closed this changefeed here (tombstone). */
  CLOSED(false),
  /** Epoch 0 after a non-zero epoch was seen: the sender predates epochs and lost ownership. */
  COMPAT_ENDED(false),
  /** A control message before any bootstrap established an owner at that epoch. */
  NOT_BOOTSTRAPPED(false),
  /** A node's report older than one already applied from the same incarnation (reordered in transit). */
  STALE_SEQUENCE(false);

  private final boolean accepted;

  Admission(boolean accepted) {
    this.accepted = accepted;
  }

  public boolean accepted() {
    return accepted;
  }

  /** The metric label / log value. */
  public String reason() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
