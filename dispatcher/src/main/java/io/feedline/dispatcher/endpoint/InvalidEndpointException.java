package io.feedline.dispatcher.endpoint;

/**
 * A source or sink URI that cannot be used. The message says what is wrong and shows the URI only in
 * its redacted form, so it is safe to log and to put into an error reply.
 */
public final class InvalidEndpointException extends IllegalArgumentException {

  public InvalidEndpointException(String message) {
    super(message);
  }
}
