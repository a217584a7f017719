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
 * needs. One exception keeps every changefeed moving: an account that holds nothing may reserve within its
 * share even when the node is at the quota (a firehose whose spans are blocked at DDLs can hold the node
 * there for minutes, and a changefeed created meanwhile could otherwise never read at all); so the quota is
 * passed by at most one read per such account. A reservation that does not fit is refused, and the reader
 * waits for {@link Account#whenRoom} instead of buffering: that is the back-pressure on sources.
 *
 * <p>Reservations are made before reading, sized to what may be read, and settled to the bytes actually
 * read; a settlement may exceed the reservation (an estimate was low), so the quota can be passed by at most
 * one batch's misestimate per reader. A reservation whose reader is blocked at a DDL barrier is marked
 * {@link Reservation#block blocked}: when everything an account holds is blocked, nothing it holds can be
 * returned before one of its other readers moves (the barrier waits for them), so such an account may
 * {@link Account#forceReserve} one read at a time past its share. Thread-safe: the accounts of one node live
 * on different data lanes.
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

  /**
   * Returns bytes to the quota and collects the actions of the waiting accounts that may go on now: those
   * the room is enough for, and those whose holdings are all blocked (run the actions outside the lock).
   */
  private List<Runnable> returned(Account account, long bytes) {
    List<Runnable> wake = new ArrayList<>();
    synchronized (this) {
      used -= bytes;
      account.held -= bytes;
      for (Account a : accounts) {
        if (a.onRoom != null && (a.fits(a.clamp(a.onRoomBytes)) || a.stalled())) {
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
    /** The part of {@link #held} whose readers are blocked at a DDL barrier. */
    private long blocked;
    private Runnable onRoom;
    private long onRoomBytes;
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
     * returns null when the account's share, or the node (unless the account holds nothing), has no room now.
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
      return !closed && held + want <= shareOfOne() && (used + want <= limit || held == 0);
    }

    /** Holds something, all of it blocked at a barrier: no release can come before another read. */
    private boolean stalled() {
      return !closed && held > 0 && blocked >= held;
    }

    /**
     * Reserves {@code bytes} (at most the share) past the quota, when {@link #tryReserve} refused and
     * everything this account holds is blocked at a DDL barrier; null otherwise. So a changefeed whose
     * blocked spans hold its share still lets the span the barrier waits for read, one turn at a time.
     */
    public Reservation forceReserve(long bytes) {
      synchronized (MemoryQuota.this) {
        if (!stalled()) {
          return null;
        }
        long want = clamp(bytes);
        used += want;
        held += want;
        return new Reservation(this, want);
      }
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
        now = fits(clamp(bytes)) || stalled();
        onRoom = now ? null : action;
        onRoomBytes = bytes;
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
    private boolean isBlocked;

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
        if (isBlocked) {
          account.blocked += delta;
        }
        if (delta >= 0) {
          used += delta;
          account.held += delta;
          return;
        }
        give = -delta;
      }
      returned(account, give).forEach(Runnable::run);
    }

    /**
     * Its reader is blocked at a DDL barrier and keeps what it holds until the barrier passes. When that
     * leaves the account holding only blocked reads, a waiting reader of it is woken (see {@link Account#forceReserve}).
     */
    public void block() {
      synchronized (MemoryQuota.this) {
        if (released || isBlocked) {
          return;
        }
        isBlocked = true;
        account.blocked += bytes;
      }
      returned(account, 0).forEach(Runnable::run);
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
        if (isBlocked) {
          account.blocked -= give;
        }
      }
      returned(account, give).forEach(Runnable::run);
    }
  }
}
