package io.feedline.simulation;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.feedline.common.simulation.ProtocolMutation;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/** Runs seeds of the {@link Simulation}, and for a failing one finds the shortest prefix of its plan that still fails. */
final class Simulator {

  /** Every action of a seed's plan. */
  static final int ALL_ACTIONS = Integer.MAX_VALUE;

  private Simulator() {}

  static SeedResult run(long seed, int actions) {
    return new Simulation(seed, actions, null).run();
  }

  /**
   * Seeds {@code first}, {@code first + 1}, … (without end when {@code count} is negative), run on {@code threads} threads
   * a few seeds ahead and handed out in seed order. Each seed is a world of its own on one thread, so its history is the
   * one it has alone. Close it to stop the threads.
   */
  static SeedStream seeds(long first, long count, int threads) {
    return new SeedStream(first, count, threads);
  }

  /** The results of consecutive seeds, in order. */
  static final class SeedStream implements Iterator<SeedResult>, AutoCloseable {
    private final ExecutorService pool;
    private final ArrayDeque<Future<SeedResult>> ahead = new ArrayDeque<>();
    private final long end;
    private long next;

    private SeedStream(long first, long count, int threads) {
      this.pool = Executors.newFixedThreadPool(threads, runnable -> {
        Thread thread = new Thread(runnable, "simulation");
        thread.setDaemon(true);
        return thread;
      });
      this.next = first;
      this.end = count < 0 ? Long.MAX_VALUE : first + count;
      for (int i = 0; i < 2 * threads; i++) {
        submit();
      }
    }

    private void submit() {
      if (next < end) {
        long seed = next++;
        ahead.add(pool.submit(() -> run(seed, ALL_ACTIONS)));
      }
    }

    @Override
    public boolean hasNext() {
      return !ahead.isEmpty();
    }

    @Override
    public SeedResult next() {
      Future<SeedResult> head = ahead.poll();
      if (head == null) {
        throw new NoSuchElementException();
      }
      submit();
      try {
        return head.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while a seed ran", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("a seed failed to run: " + e.getCause(), e.getCause());
      }
    }

    @Override
    public void close() {
      pool.shutdownNow();
    }
  }

  /** As {@link #run}, printing every event of the history to {@code trace} as it happens. */
  static SeedResult trace(long seed, int actions, Consumer<String> trace) {
    return new Simulation(seed, actions, trace).run();
  }

  /**
   * The fewest plan actions with which {@code failed}'s seed still violates the same invariant, by bisection over prefixes
   * of its plan: the smallest such prefix it meets (a prefix can fail while a longer one passes, so it is the shortest
   * it can find, not always the shortest there is). A prefix that fails otherwise (too short to converge, to exercise
   * anything) counts as passing: the replay must show the failure that was found.
   */
  static int shortestFailingPrefix(SeedResult failed) {
    int failing = failed.actions();
    int passing = -1;
    while (failing - passing > 1) {
      int mid = (failing + passing) >>> 1;
      if (!run(failed.seed(), mid).invariant().equals(failed.invariant())) {
        passing = mid;
      } else {
        failing = mid;
      }
    }
    return failing;
  }

  /** The command that replays {@code seed} cut to {@code actions} under {@code mutation}. */
  static String replayCommand(long seed, int actions, Optional<ProtocolMutation> mutation) {
    return "java -jar node-runtime/target/feedline.jar simulate --seed " + seed + " --actions " + actions
        + mutation.map(m -> " --mutation " + m.cliName()).orElse("");
  }

  /** Where the seed running on this thread takes what the roles log as errors (see {@link #quietLogs}). */
  static final ThreadLocal<Consumer<String>> ERRORS = new ThreadLocal<>();

  /**
   * The roles log every decision; thousands of seeds a minute must not. Errors do not show either: each becomes a
   * violation of the seed that logged it.
   */
  static synchronized void quietLogs() {
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.ERROR);
    if (root.getAppender(ErrorsAsViolations.NAME) == null) {
      root.detachAndStopAllAppenders();
      ErrorsAsViolations appender = new ErrorsAsViolations();
      appender.setContext(root.getLoggerContext());
      appender.start();
      root.addAppender(appender);
    }
  }

  /** Hands every error event to the seed running on its thread. */
  private static final class ErrorsAsViolations extends AppenderBase<ILoggingEvent> {
    static final String NAME = "simulation-errors";

    ErrorsAsViolations() {
      setName(NAME);
    }

    @Override
    protected void append(ILoggingEvent event) {
      Consumer<String> errors = ERRORS.get();
      if (errors != null && event.getLevel().isGreaterOrEqual(Level.ERROR)) {
        errors.accept(event.getLoggerName() + ": " + event.getFormattedMessage()
            + (event.getThrowableProxy() == null ? "" : " (" + event.getThrowableProxy().getClassName() + ": "
            + event.getThrowableProxy().getMessage() + ")"));
      }
    }
  }
}
