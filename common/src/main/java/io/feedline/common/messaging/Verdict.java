package io.feedline.common.messaging;

/** What an interceptor decides for one message. */
public sealed interface Verdict {

  Verdict DELIVER = new Deliver();
  Verdict DROP = new Drop();

  record Deliver() implements Verdict {}

  record Drop() implements Verdict {}

  /** Deliver after {@code millis}; random delays across messages reorder them. */
  record Delay(long millis) implements Verdict {}

  /** Deliver now and {@code extraCopies} more times, each {@code spacingMillis} after the previous. */
  record Duplicate(int extraCopies, long spacingMillis) implements Verdict {}
}
