package io.feedline.common.time;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;

/**
 * A scheduler whose time moves only when told to. Tasks due at the same instant run in the order they
 * were scheduled. Single-threaded by design: the test thread plays the event loop.
 */
public final class ManualScheduler implements Scheduler {

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>((a, b) -> a.dueAt != b.dueAt ? Long.compare(a.dueAt, b.dueAt) : Long.compare(a.seq, b.seq));
  private long now;
  private long seq;

  public ManualScheduler(long startMillis) {
    this.now = startMillis;
  }

  @Override
  public long nowMillis() {
    return now;
  }

  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    Task t = new Task(now + Math.max(0, delayMillis), 0, task, seq++);
    queue.add(t);
    return () -> t.cancelled = true;
  }

  @Override
  public Cancellable periodic(long periodMillis, Runnable task) {
    if (periodMillis <= 0) {
      throw new IllegalArgumentException("period must be positive: " + periodMillis);
    }
    Task t = new Task(now + periodMillis, periodMillis, task, seq++);
    queue.add(t);
    return () -> t.cancelled = true;
  }

  /** Runs everything due now (including tasks those tasks schedule for now). */
  public void runDue() {
    advance(0);
  }

  /** Moves time forward by {@code millis}, running every task that falls due, in time order. */
  public void advance(long millis) {
    long target = now + millis;
    while (runNext(target)) {
      // every task due by then, in time order
    }
  }

  /**
   * Runs the one next task due at or before {@code deadline} (time moves to it) and answers true; with none, moves
   * time to {@code deadline} and answers false. A simulator's step: it checks its invariants between two tasks.
   */
  public boolean runNext(long deadline) {
    while (!queue.isEmpty() && queue.peek().dueAt <= deadline) {
      Task t = queue.poll();
      if (t.cancelled) {
        continue;
      }
      now = Math.max(now, t.dueAt);
      if (t.period > 0) {
        t.dueAt = now + t.period;
        t.seq = seq++;
        queue.add(t);
      }
      t.task.run();
      return true;
    }
    now = Math.max(now, deadline);
    return false;
  }

  /** This scheduler's time as a UTC {@link Clock}, for code that takes one: it moves only when the scheduler does. */
  public Clock clock() {
    return new SchedulerClock(ZoneOffset.UTC);
  }

  /** Tasks waiting to run (cancelled ones excluded). */
  public long pending() {
    return queue.stream().filter(t -> !t.cancelled).count();
  }

  private static final class Task {
    long dueAt;
    final long period;
    final Runnable task;
    long seq;
    boolean cancelled;

    Task(long dueAt, long period, Runnable task, long seq) {
      this.dueAt = dueAt;
      this.period = period;
      this.task = task;
      this.seq = seq;
    }
  }

  private final class SchedulerClock extends Clock {
    private final ZoneId zone;

    SchedulerClock(ZoneId zone) {
      this.zone = zone;
    }

    @Override
    public ZoneId getZone() {
      return zone;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return new SchedulerClock(zone);
    }

    @Override
    public long millis() {
      return now;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now);
    }
  }
}
