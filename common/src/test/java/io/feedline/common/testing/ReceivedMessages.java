package io.feedline.common.testing;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What a test's stand-in for a role received over the control bus, in order, with a future for the message
 * a test step waits for: an asynchronous test composes on {@link #next} instead of polling a queue.
 * Register it as the stand-in's handler: {@code bus.register(role, in -> received.add(in.payload()))}.
 */
public final class ReceivedMessages {

  private final List<Message> all = new ArrayList<>();
  /** Messages before this index were passed over by an earlier {@link #next} (or {@link #skipReceived}). */
  private int read;
  private Waiting<?> waiting;

  /** A message arrived: it completes the step waiting for it, if it is the one. */
  public void add(Message message) {
    Waiting<?> decided = null;
    RuntimeException broken = null;
    synchronized (this) {
      all.add(message);
      if (waiting != null) {
        try {
          if (waiting.matches(message)) {
            read = all.size();
            decided = waiting;
          }
        } catch (RuntimeException e) {
          // This runs on the bus's thread, which would only count it: the waiting step fails with it instead.
          broken = e;
          decided = waiting;
        }
        if (decided != null) {
          waiting = null;
        }
      }
    }
    // Outside the lock: completing runs the test's next step.
    if (broken != null) {
      decided.promise.fail(broken);
    } else if (decided != null) {
      decided.complete(message);
    }
  }

  /**
   * The first message of {@code type} matching {@code match} among those no earlier call passed over,
   * already received or still to come; the messages before it are passed over. One step waits at a time.
   */
  public synchronized <T extends Message> Future<T> next(Class<T> type, Predicate<? super T> match) {
    if (waiting != null) {
      throw new IllegalStateException("already waiting for a " + waiting.type.getSimpleName());
    }
    Waiting<T> next = new Waiting<>(type, match);
    for (int i = read; i < all.size(); i++) {
      if (next.matches(all.get(i))) {
        read = i + 1;
        return Future.succeededFuture(type.cast(all.get(i)));
      }
    }
    read = all.size();
    waiting = next;
    return next.promise.future();
  }

  /** The next message of {@code type}, whatever it says. */
  public <T extends Message> Future<T> next(Class<T> type) {
    return next(type, m -> true);
  }

  /** Passes over everything received so far: the next {@link #next} waits for a message received from now on. */
  public synchronized void skipReceived() {
    read = all.size();
  }

  /** Everything received, in order, including what {@link #next} passed over. */
  public synchronized List<Message> all() {
    return List.copyOf(all);
  }

  private static final class Waiting<T extends Message> {
    private final Class<T> type;
    private final Predicate<? super T> match;
    private final Promise<T> promise = Promise.promise();

    Waiting(Class<T> type, Predicate<? super T> match) {
      this.type = type;
      this.match = match;
    }

    boolean matches(Message m) {
      return type.isInstance(m) && match.test(type.cast(m));
    }

    void complete(Message m) {
      promise.complete(type.cast(m));
    }
  }
}
