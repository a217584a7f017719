package io.feedline.common.metastore;

import io.feedline.common.metastore.MetaStoreException.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * etcd's rules for the keys of an in-process store, shared by the embedded store and the simulator's so both behave
 * alike: a write of one revision (create and mod revisions, versions, lease bindings, the watch events it makes) and a
 * transaction (its compares, then its chosen operations). The store keeps the keys (in a map it may persist) and each
 * lease's keys, and commits a write's revision and events its own way. Not thread-safe: the store's one thread uses it.
 */
public final class KeySpace {

  private final Map<String, KeyValue> keyValues;
  private final LongFunction<Set<String>> leaseKeys;

  /**
   * @param keyValues the keys, by key
   * @param leaseKeys the keys bound to a lease, by its id; null for a lease that does not exist
   */
  public KeySpace(Map<String, KeyValue> keyValues, LongFunction<Set<String>> leaseKeys) {
    this.keyValues = keyValues;
    this.leaseKeys = leaseKeys;
  }

  /** A copy a caller may keep: nothing it does to the value reaches the store. */
  public static KeyValue copy(KeyValue kv) {
    return new KeyValue(kv.key(), kv.value().clone(), kv.createRevision(), kv.modRevision(), kv.version(), kv.lease());
  }

  /** Fails with {@link Reason#LEASE_NOT_FOUND} unless {@code leaseId} is 0 (no lease) or a lease that exists. */
  public void requireLease(long leaseId) {
    if (leaseId != 0 && leaseKeys.apply(leaseId) == null) {
      throw new MetaStoreException(Reason.LEASE_NOT_FOUND, "lease " + leaseId + " not found");
    }
  }

  /** Begins the changes of revision {@code writeRevision}. */
  public Write write(long writeRevision) {
    return new Write(writeRevision);
  }

  /** A transaction decided and applied to a write: whether its compares held, and what its gets read. */
  public record Applied(boolean succeeded, Write write, List<Optional<KeyValue>> gets) {}

  /**
   * Evaluates {@code txn}'s compares and applies the operations they choose, as revision {@code writeRevision}. Every put's
   * lease is checked first: a rejected transaction leaves no trace.
   */
  public Applied txn(Txn txn, long writeRevision) {
    boolean succeeded = txn.compares().stream().allMatch(this::holds);
    List<Txn.Op> ops = succeeded ? txn.success() : txn.failure();
    for (Txn.Op op : ops) {
      if (op instanceof Txn.Op.Put put) {
        requireLease(put.leaseId());
      }
    }
    Write write = write(writeRevision);
    List<Optional<KeyValue>> gets = new ArrayList<>();
    for (Txn.Op op : ops) {
      if (op instanceof Txn.Op.Put put) {
        write.put(put.key(), put.value(), put.leaseId());
      } else if (op instanceof Txn.Op.Delete delete) {
        write.delete(delete.key());
      } else if (op instanceof Txn.Op.Get get) {
        gets.add(Optional.ofNullable(keyValues.get(get.key())).map(KeySpace::copy));
      }
    }
    return new Applied(succeeded, write, gets);
  }

  /** etcd compares a missing key as all-zero revision metadata. */
  private boolean holds(Txn.Compare compare) {
    KeyValue current = keyValues.get(compare.key());
    long actual = current == null ? 0 : switch (compare.target()) {
      case MOD_REVISION -> current.modRevision();
      case CREATE_REVISION -> current.createRevision();
      case VERSION -> current.version();
    };
    return actual == compare.expected();
  }

  /** The changes of one revision, applied in order; later operations see earlier ones. */
  public final class Write {
    private final long revision;
    private final List<WatchEvent> events = new ArrayList<>();

    private Write(long revision) {
      this.revision = revision;
    }

    /** Puts {@code key}, bound to {@code leaseId} (0: none), which must exist ({@link #requireLease}). The value is copied. */
    public void put(String key, byte[] value, long leaseId) {
      KeyValue previous = keyValues.get(key);
      long createRevision = previous == null ? revision : previous.createRevision();
      long version = previous == null ? 1 : previous.version() + 1;
      KeyValue kv = new KeyValue(key, value.clone(), createRevision, revision, version, leaseId);
      keyValues.put(key, kv);
      unbind(previous);
      if (leaseId != 0) {
        leaseKeys.apply(leaseId).add(key);
      }
      events.add(new WatchEvent(WatchEvent.Type.PUT, kv));
    }

    /** Deletes {@code key}; whether it existed. */
    public boolean delete(String key) {
      KeyValue previous = keyValues.remove(key);
      if (previous == null) {
        return false;
      }
      unbind(previous);
      events.add(new WatchEvent(WatchEvent.Type.DELETE, new KeyValue(key, new byte[0], 0, revision, 0, 0)));
      return true;
    }

    private void unbind(KeyValue previous) {
      if (previous != null && previous.lease() != 0) {
        Set<String> bound = leaseKeys.apply(previous.lease());
        if (bound != null) {
          bound.remove(previous.key());
        }
      }
    }

    /** The revision this write commits as, if it changed anything. */
    public long revision() {
      return revision;
    }

    /** What changed, in order; empty when nothing did (the store's revision then stays). */
    public List<WatchEvent> events() {
      return events;
    }
  }
}
