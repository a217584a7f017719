package io.feedline.dispatcher.source;

/** The subscription was cancelled while a batch was awaited: the consumer asked for it, not a failure. */
public final class SubscriptionCancelledException extends RuntimeException {

  public SubscriptionCancelledException() {
    super("subscription cancelled", null, false, false);
  }
}
