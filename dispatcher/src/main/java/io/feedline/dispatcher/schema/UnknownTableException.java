package io.feedline.dispatcher.schema;

/** The upstream has no such table at that position. */
public final class UnknownTableException extends IllegalStateException {

  public UnknownTableException(long tableId, long ts, String why) {
    super("table " + tableId + " at ts " + ts + ": " + why);
  }
}
