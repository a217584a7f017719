package io.feedline.common.metastore;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.Optional;

/**
 * The metadata store contract shared by etcd and the embedded single-node store.
 *
 * <p>Every method is non-blocking; returned futures and watch handlers complete on the Vert.x context
 * that called the method (when called from outside Vert.x, on an event-loop context of the store's Vert.x
 * instance). Keys are UTF-8 paths, values opaque bytes. Revisions follow etcd: one cluster-wide counter,
 * bumped by every write; a key's {@code createRevision} is 0 when it does not exist.
 */
public interface MetaStore {

  Future<Optional<KeyValue>> get(String key);

  /** Every key starting with {@code prefix}, sorted by key, plus the store revision they were read at. */
  Future<RangeResult> getPrefix(String prefix);

  /** Puts a key not bound to a lease. Returns the revision of the write. */
  default Future<Long> put(String key, byte[] value) {
    return put(key, value, 0L);
  }

  /** Puts a key bound to {@code leaseId} (0 = no lease): the key is deleted when the lease ends. */
  Future<Long> put(String key, byte[] value, long leaseId);

  /** Deletes one key. Returns whether it existed. */
  Future<Boolean> delete(String key);

  /** Atomically: if every compare holds, run the success ops, otherwise the failure ops. */
  Future<TxnResult> txn(Txn txn);

  /**
   * Watches every key under {@code prefix}, starting with the changes at {@code fromRevision} (0 = from
   * now). Events arrive in revision order. If the history at {@code fromRevision} was compacted away, or
   * the watch breaks, {@code onError} is called once and the watch is over.
   */
  Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError);

  /** Grants a lease; keys bound to it vanish when it is revoked or its TTL passes without keep-alive. */
  Future<Lease> grantLease(long ttlSeconds);

  /** Leader election; only leases of this store can back a campaign. */
  Election election();

  /**
   * Releases client resources. Does not revoke leases (a crashed process would not either). Running
   * watches end with {@code onError} ({@link MetaStoreException.Reason#CLOSED}); lease {@code onLost}
   * handlers are not called.
   */
  Future<Void> close();

  /**
   * Since when this client has not reached its store (the first failed request or keep-alive after the
   * last one that succeeded), with the last error; empty while it does. An in-process store is always
   * reached.
   */
  default java.util.Optional<Reachability.Outage> outage() {
    return java.util.Optional.empty();
  }

  record RangeResult(java.util.List<KeyValue> kvs, long revision) {}

  /** A running watch. */
  interface Watch {
    void cancel();
  }

  /** A lease with automatic keep-alive from the moment it is granted. */
  interface Lease {
    long id();

    long ttlSeconds();

    /**
     * Adds a handler called once, on the owner's context, when keep-alive fails and the lease must be
     * taken as gone (keep-alive then stops, so the lease does expire). Every added handler is called:
     * each role of a node fences itself. Not called after {@link #revoke()} or {@link MetaStore#close()}.
     * Added after the loss, the handler is called at once.
     */
    void onLost(Handler<Void> handler);

    /** Ends keep-alive and deletes the keys bound to the lease. */
    Future<Void> revoke();
  }

  /** Election in the etcd sense: the leader is the campaigner whose key has the lowest create revision. */
  interface Election {
    /** Completes once the caller leads {@code name}. The leadership ends with the lease or with resign. */
    Future<Leadership> campaign(String name, Lease lease, byte[] proposal);

    Future<Optional<Leader>> leader(String name);

    /**
     * Takes {@code lease}'s candidacy out of {@code name}: a waiting campaign on it fails, a leadership held
     * with it ends. Done when the key is gone (also when there was none). For a node that must never lead
     * again, e.g. one being drained.
     */
    Future<Void> withdraw(String name, Lease lease);

    /**
     * Calls {@code handler} with the current leader and every later change of leader. Outlives store
     * outages (it catches up once the store answers); {@code onError} only when the store is closed.
     */
    Watch observe(String name, Handler<Leader> handler, Handler<Throwable> onError);
  }

  /** The leader of an election. {@code revision} is the leader key's create revision: the election version. */
  record Leader(String name, String key, byte[] proposal, long revision) {}

  interface Leadership {
    Leader leader();

    Future<Void> resign();
  }
}
