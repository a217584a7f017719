package io.feedline.common.messaging;

/** Codes of {@code RunningError}s that one role sends and another acts on. */
public final class RunningErrorCodes {

  /**
   * A sink refused a table's schema (no primary key, a type it cannot map, a downstream table that does not
   * fit): the write can never succeed as things stand, so the maintainer makes it the changefeed's error.
   */
  public static final String SINK_ERROR = "sink_error";

  private RunningErrorCodes() {}
}
