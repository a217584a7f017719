package io.feedline.testkit;

/**
 * Ends a JVM that {@code feedline.jar} started (the benchmarks, the simulator) when that {@code feedline.jar} is gone:
 * a SIGKILL of the launcher cannot stop its child itself, and the child would run on, orphaned, holding a core.
 */
public final class ParentWatch {

  /** The system property carrying the launcher's pid; {@code feedline.jar}'s CompanionLauncher.PARENT_PROPERTY names it too. */
  public static final String PROPERTY = "feedline.parent";
  /** What a process killed by SIGTERM exits with: this one is ended on its launcher's behalf. */
  static final int ORPHANED_EXIT = 143;

  private ParentWatch() {}

  /** Exits this JVM when the process named by {@link #PROPERTY} ends, or now if it has ended already; without it, nothing. */
  public static void endWithParent() {
    long parent = Long.getLong(PROPERTY, -1);
    if (parent > 0) {
      ProcessHandle.of(parent).ifPresentOrElse(p -> p.onExit().thenRun(() -> System.exit(ORPHANED_EXIT)),
          () -> System.exit(ORPHANED_EXIT));
    }
  }
}
