package io.feedline.common.tso;

import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * The cluster timestamp oracle: strictly increasing hybrid timestamps, {@code physical ms << 18 | logical}
 * as in TiDB's PD, that stay strictly increasing across restarts of whoever serves them.
 *
 * <p>The physical part follows the clock; while the clock stands still or goes backwards the logical
 * counter advances instead, and when it overflows the physical part moves one millisecond ahead of the
 * clock. Timestamps are served only below a bound persisted in the metastore, kept about one window ahead
 * of the clock. A new oracle begins at the persisted bound, above anything an earlier one can have served,
 * whatever its own clock says.
 *
 * <p>The bound is extended with a compare-and-set on the window key's mod revision, so two servers cannot
 * both extend it: the one that loses the race is fenced and fails every later request with
 * {@link TimestampOracleFencedException}. Until it next needs to extend, it keeps serving from the window
 * it already holds, below the new server's first timestamp; only one elected server should run an oracle.
 *
 * <p>Thread-safe and non-blocking: {@link #next()} answers at once from the window, or queues while the
 * window is extended; queued requests complete in order, on their caller's context.
 */
public final class TimestampOracle {

  public static final int LOGICAL_BITS = 18;
  public static final long MAX_LOGICAL = (1L << LOGICAL_BITS) - 1;
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(3);

  private final MetaStore store;
  private final String windowKey;
  private final Clock clock;
  private final long windowMillis;

  // All guarded by this.
  private long physical;
  private long logical;
  /** Persisted: no timestamp is served with a physical part at or above it. */
  private long bound;
  private long boundModRevision;
  private boolean extending;
  private TimestampOracleFencedException fenced;
  private final Queue<Waiter> waiters = new ArrayDeque<>();

  private TimestampOracle(MetaStore store, String windowKey, Clock clock, Duration window, long persistedBound,
      long modRevision) {
    this.store = store;
    this.windowKey = windowKey;
    this.clock = clock;
    this.windowMillis = window.toMillis();
    this.bound = persistedBound;
    this.boundModRevision = modRevision;
    // Everything served before is below the persisted bound; the first timestamp here is at least at it.
    this.physical = Math.max(clock.millis(), persistedBound);
    this.logical = -1;
  }

  /**
   * Reads the persisted bound from {@code windowKey}, persists a new window above it and completes with an
   * oracle ready to serve.
   */
  public static Future<TimestampOracle> start(MetaStore store, String windowKey, Clock clock, Duration window) {
    if (window.toMillis() < 1) {
      throw new IllegalArgumentException("window must be at least 1 ms: " + window);
    }
    return store.get(windowKey).compose(current -> {
      long persistedBound = current.map(TimestampOracle::decode).orElse(0L);
      long modRevision = current.map(KeyValue::modRevision).orElse(0L);
      TimestampOracle oracle = new TimestampOracle(store, windowKey, clock, window, persistedBound, modRevision);
      Extension first;
      synchronized (oracle) {
        first = oracle.beginExtension();
      }
      Promise<TimestampOracle> ready = Promise.promise();
      oracle.persist(first, result -> {
        if (result.failed()) {
          ready.fail(result.cause());
        } else if (!result.result().succeeded()) {
          ready.fail(new TimestampOracleFencedException(
              "another oracle extended " + windowKey + " while this one was starting"));
        } else {
          synchronized (oracle) {
            oracle.extended(first, result.result());
          }
          ready.complete(oracle);
        }
      });
      return ready.future();
    });
  }

  public static long physicalMillis(long timestamp) {
    return timestamp >>> LOGICAL_BITS;
  }

  /**
   * How far a timestamp is behind {@code nowMillis}, in seconds. The TSO may hand out physical times a
   * little ahead of a clock (another node's clock, or its window): a timestamp ahead of now is not behind at
   * all, and a negative lag would only confuse lag alerts.
   */
  public static double lagSeconds(long nowMillis, long timestamp) {
    return Math.max(0, nowMillis - physicalMillis(timestamp)) / 1000.0;
  }

  public static long logical(long timestamp) {
    return timestamp & MAX_LOGICAL;
  }

  /** The next timestamp: greater than every timestamp served before, by this oracle or an earlier one. */
  public Future<Long> next() {
    Future<Long> result;
    Extension extension;
    synchronized (this) {
      if (fenced != null) {
        return Future.failedFuture(fenced);
      }
      long timestamp = waiters.isEmpty() ? allocate() : -1;
      if (timestamp >= 0) {
        result = Future.succeededFuture(timestamp);
      } else {
        Waiter waiter = new Waiter(Vertx.currentContext());
        waiters.add(waiter);
        result = waiter.promise.future();
      }
      extension = extensionDue();
    }
    if (extension != null) {
      persist(extension, outcome -> onPersisted(extension, outcome));
    }
    return result;
  }

  /** Returns the next timestamp, or -1 if it would reach the persisted bound. */
  private long allocate() {
    long now = clock.millis();
    long nextPhysical;
    long nextLogical;
    if (now > physical) {
      nextPhysical = now;
      nextLogical = 0;
    } else if (logical < MAX_LOGICAL) {
      nextPhysical = physical;
      nextLogical = logical + 1;
    } else {
      nextPhysical = physical + 1;
      nextLogical = 0;
    }
    if (nextPhysical >= bound) {
      return -1;
    }
    physical = nextPhysical;
    logical = nextLogical;
    return nextPhysical << LOGICAL_BITS | nextLogical;
  }

  /**
   * Extends ahead of need: once less than half a window is left, or when a request waits. One extension
   * at a time; it reaches one window beyond the clock (or beyond the logical overflow, if that is ahead).
   */
  private Extension extensionDue() {
    if (extending) {
      return null;
    }
    long base = Math.max(physical, clock.millis());
    if (waiters.isEmpty() && bound - base > windowMillis / 2) {
      return null;
    }
    return beginExtension();
  }

  private Extension beginExtension() {
    extending = true;
    return new Extension(Math.max(physical, clock.millis()) + windowMillis, boundModRevision);
  }

  private void persist(Extension extension, Handler<AsyncResult<TxnResult>> handler) {
    Txn casWindow = Txn.builder()
        .when(Txn.Compare.modRevision(windowKey, extension.expectedModRevision()))
        .then(Txn.Op.put(windowKey, encode(extension.bound())))
        .build();
    store.txn(casWindow).onComplete(handler);
  }

  private void onPersisted(Extension extension, AsyncResult<TxnResult> outcome) {
    List<Runnable> completions = new ArrayList<>();
    Extension again = null;
    synchronized (this) {
      if (outcome.failed()) {
        // Unknown whether it was written: fail who waits; the next request tries again (and is fenced if
        // the write did land, since the mod revision then moved).
        extending = false;
        failWaiters(outcome.cause(), completions);
      } else if (!outcome.result().succeeded()) {
        extending = false;
        fenced = new TimestampOracleFencedException(
            "the timestamp window in " + windowKey + " was extended by another oracle");
        failWaiters(fenced, completions);
      } else {
        extended(extension, outcome.result());
        while (!waiters.isEmpty()) {
          long timestamp = allocate();
          if (timestamp < 0) {
            break;
          }
          completions.add(waiters.poll().completion(timestamp));
        }
        again = extensionDue();
      }
    }
    completions.forEach(Runnable::run);
    if (again != null) {
      Extension next = again;
      persist(next, result -> onPersisted(next, result));
    }
  }

  private void extended(Extension extension, TxnResult result) {
    extending = false;
    bound = extension.bound();
    boundModRevision = result.revision();
  }

  private void failWaiters(Throwable cause, List<Runnable> completions) {
    while (!waiters.isEmpty()) {
      completions.add(waiters.poll().failure(cause));
    }
  }

  private static byte[] encode(long bound) {
    return Long.toString(bound).getBytes(StandardCharsets.UTF_8);
  }

  private static long decode(KeyValue kv) {
    try {
      return Long.parseLong(kv.valueAsString());
    } catch (NumberFormatException e) {
      throw new IllegalStateException("timestamp window " + kv.key() + " holds no number: " + kv.valueAsString(), e);
    }
  }

  private record Extension(long bound, long expectedModRevision) {}

  /** A queued request, completed on the context it was made on (or directly outside Vert.x). */
  private static final class Waiter {
    final Context context;
    final Promise<Long> promise = Promise.promise();

    Waiter(Context context) {
      this.context = context;
    }

    Runnable completion(long timestamp) {
      return () -> onContext(() -> promise.complete(timestamp));
    }

    Runnable failure(Throwable cause) {
      return () -> onContext(() -> promise.fail(cause));
    }

    private void onContext(Runnable action) {
      if (context == null) {
        action.run();
      } else {
        context.runOnContext(v -> action.run());
      }
    }
  }
}
