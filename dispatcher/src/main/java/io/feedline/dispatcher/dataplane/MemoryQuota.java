package io.feedline.dispatcher.dataplane;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A node's budget for change events read from sources and not yet acknowledged by sinks (the
 * {@code dataplane.memory-quota} setting). Every changefeed on the node reads through an {@link Account}.
 * An account may hold at most an equal share of the quota (the quota divided by the open accounts), and
 * the node as a whole at most the quota, so one firehose cannot take the memory a quieter changefeed
 * needs. A reservation that does not fit is refused, and the reader waits for {@link Account#whenRoom}
 * instead of buffering: that is the back-pressure on sources.
 *
 * <p>Reservations are made before reading, sized to what may be read, and settled to the bytes actually
 * read; a settlement may exceed the reservation (an estimate was low), so the quota can be passed by at most
 * one batch's misestimate per reader. Thread-safe: the accounts of one node live on different data lanes.
 */
public final class MemoryQuota {

  private final long limit;
  private long used;
  private final Set<Account> accounts = new LinkedHashSet<>();

  public MemoryQuota(long limitBytes) {
    if (limitBytes < 1) {
      throw new IllegalArgumentException("memory quota must be positive, got " + limitBytes);
    }
    this.limit = limitBytes;
  }

  public long limit() {
    return limit;
  }

  /** Bytes reserved now, over every account. */
  public synchronized long used() {
    return used;
  }

  /** An account for one changefeed's reads; its share of the quota shrinks as others open. */
  public synchronized Account open(String name) {
    Account account = new Account(name);
    accounts.add(account);
    return account;
  }

  private synchronized long shareOfOne() {
    return limit / Math.max(1, accounts.size());
  }

  /** Returns bytes to the quota and collects the waiting accounts to wake (run outside the lock). */
  private List<Runnable> returned(Account account, long bytes) {
    List<Runnable> wake = new ArrayList<>();
    synchronized (this) {
      used -= bytes;
      account.held -= bytes;
      for (Account a : accounts) {
        if (a.onRoom != null) {
          wake.add(a.onRoom);
          a.onRoom = null;
        }
      }
    }
    return wake;
  }

  /** One changefeed's part of the quota. */
  public final class Account {
    private final String name;
    private long held;
    private Runnable onRoom;
    private boolean closed;

    private Account(String name) {
      this.name = name;
    }

    public String name() {
      return name;
    }

    /** The most this account may hold while the others are open. */
    public long share() {
      return shareOfOne();
    }

    /** Bytes this account holds now. */
    public long held() {
      synchronized (MemoryQuota.this) {
        return held;
      }
    }

    /**
     * Reserves {@code bytes} (at most the account's share, so a large estimate never waits forever), or
     * returns null when neither the node nor the account's share has room for it now.
     */
    public Reservation tryReserve(long bytes) {
      synchronized (MemoryQuota.this) {
        long want = clamp(bytes);
        if (!fits(want)) {
          return null;
        }
        used += want;
        held += want;
        return new Reservation(this, want);
      }
    }

    private long clamp(long bytes) {
      return Math.max(1, Math.min(bytes, shareOfOne()));
    }

    private boolean fits(long want) {
      return !closed && used + want <= limit && held + want <= shareOfOne();
    }

    /**
     * A reservation of nothing, for a read that must not wait for room: what it reads is still counted
     * once settled.
     */
    public Reservation unmetered() {
      return new Reservation(this, 0);
    }

    /**
     * Runs {@code action} once, on the thread that returns bytes, after a release or a closed account may
     * have made room for {@code bytes} (the reservation just refused); at once if there is room already.
     * One action per account is kept (the latest); after {@link #close} none runs.
     */
    public void whenRoom(long bytes, Runnable action) {
      boolean now;
      synchronized (MemoryQuota.this) {
        if (closed) {
          return;
        }
        // Room may have appeared between the refused reservation and now.
        now = fits(clamp(bytes));
        onRoom = now ? null : action;
      }
      if (now) {
        action.run();
      }
    }

    /**
     * Leaves the quota: the others' shares grow at once; bytes still reserved are returned by their
     * reservations. Idempotent.
     */
    public void close() {
      List<Runnable> wake;
      synchronized (MemoryQuota.this) {
        if (closed) {
          return;
        }
        closed = true;
        onRoom = null;
        accounts.remove(this);
      }
      wake = returned(this, 0);
      wake.forEach(Runnable::run);
    }
  }

  /** Bytes reserved by one read; released once the sink has acknowledged what was read. */
  public final class Reservation {
    private final Account account;
    private long bytes;
    private boolean released;

    private Reservation(Account account, long bytes) {
      this.account = account;
      this.bytes = bytes;
    }

    public long bytes() {
      synchronized (MemoryQuota.this) {
        return bytes;
      }
    }

    /**
     * What was read weighs {@code actual} bytes: returns the unused part at once, or takes the excess even
     * past the quota (it has been read already; the next reservations wait for it).
     */
    public void settle(long actual) {
      long give;
      synchronized (MemoryQuota.this) {
        if (released) {
          return;
        }
        long delta = Math.max(0, actual) - bytes;
        bytes += delta;
        if (delta >= 0) {
          used += delta;
          account.held += delta;
          return;
        }
        give = -delta;
      }
      returned(account, give).forEach(Runnable::run);
    }

    /** Returns the bytes to the quota. Idempotent. */
    public void release() {
      long give;
      synchronized (MemoryQuota.this) {
        if (released) {
          return;
        }
        released = true;
        give = bytes;
        bytes = 0;
      }
      returned(account, give).forEach(Runnable::run);
    }
  }
}
