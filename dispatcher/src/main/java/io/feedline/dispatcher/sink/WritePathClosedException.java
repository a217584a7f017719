package io.feedline.dispatcher.sink;

/**
 * The write path was closed (manager close or the node's self-fence) before this write: an expected
 * outcome during shutdown, reported at info level and never as an error reply.
 */
public final class WritePathClosedException extends IllegalStateException {

  public WritePathClosedException(String what) {
    super(what + ": write path closed");
  }
}
