package io.feedline.dispatcher.manager;

/**
 * Something about a request or a dispatcher that is worth a metric and one log line but is not an
 * error reply: a malformed item, a refused request, a write path already closed.
 *
 * @param type the message type (e.g. {@code ScheduleDispatcherRequest}) or {@code Dispatcher}
 * @param reason the metric label, snake_case
 * @param detail the log text; never holds credentials
 */
public record Notice(Level level, String type, String reason, String detail) {

  public enum Level {
    /** Expected during shutdown or handoff. */
    INFO,
    /** Bad input or a failure worth looking at. */
    WARN
  }

  public static Notice info(String type, String reason, String detail) {
    return new Notice(Level.INFO, type, reason, detail);
  }

  public static Notice warn(String type, String reason, String detail) {
    return new Notice(Level.WARN, type, reason, detail);
  }
}
