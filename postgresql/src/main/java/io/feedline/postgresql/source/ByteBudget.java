package io.feedline.postgresql.source;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The bytes of decoded changes a node's stream may hold for its dispatchers: the stream's reader takes
 * before it hands a transaction over and waits while the budget is spent (backpressure on the replication
 * connection: the server keeps the WAL, the node's memory stays bounded); the dispatchers' side gives back
 * what they no longer need. A transaction larger than the whole budget passes alone, when nothing else is held.
 */
final class ByteBudget {

  private final long limit;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();
  private long used;

  ByteBudget(long limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
    this.limit = limit;
  }

  /**
   * Takes {@code bytes}, waiting while they do not fit.
   *
   * @param abandon checked while waiting: when it turns true the wait ends without taking anything
   * @return whether the bytes were taken
   */
  boolean acquire(long bytes, BooleanSupplier abandon) throws InterruptedException {
    lock.lock();
    try {
      while (used > 0 && used + bytes > limit) {
        if (abandon.getAsBoolean()) {
          return false;
        }
        released.await(50, TimeUnit.MILLISECONDS);
      }
      used += bytes;
      return true;
    } finally {
      lock.unlock();
    }
  }

  void release(long bytes) {
    lock.lock();
    try {
      used = Math.max(0, used - bytes);
      released.signalAll();
    } finally {
      lock.unlock();
    }
  }

  long limit() {
    return limit;
  }

  long used() {
    lock.lock();
    try {
      return used;
    } finally {
      lock.unlock();
    }
  }
}
