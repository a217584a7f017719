package io.feedline.dispatcher.check;

/** Why a check cannot run: the input names no datagen source or no sink it can read, or the sink holds nothing yet. */
public final class CheckInputException extends RuntimeException {

  public CheckInputException(String message) {
    super(message, null, false, false);
  }
}
