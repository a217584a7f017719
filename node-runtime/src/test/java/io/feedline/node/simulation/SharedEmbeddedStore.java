package io.feedline.node.simulation;

import io.feedline.common.metastore.ElectionRecipe;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.metastore.embedded.EmbeddedMetaStore;
import io.feedline.node.cluster.InJvmCluster;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One {@link EmbeddedMetaStore} that every node of a simulated cluster reaches through a client of its own,
 * as nodes reach one store process, and that can be restarted: closed and opened again on the same data
 * directory. What a client sees follows what a restart of a single-process store means:
 * <ul>
 *   <li>its leases are lost at once (every {@code onLost} handler runs): the process that kept them alive
 *       is gone, and the reopened store finds them on disk as a previous run's leases, gives them a fresh
 *       TTL and then expires them, deleting their keys; no client can keep such a lease alive, so every
 *       node leaves and its supervisor starts a new one, as after an etcd restart that outlasts the TTL;</li>
 *   <li>its watches end with {@link Reason#UNAVAILABLE}, and so do its calls while the store is down; a
 *       watch resumes from a revision, since the history is on disk;</li>
 *   <li>nothing acknowledged is lost: every write is fsynced before it is acknowledged.</li>
 * </ul>
 * A client closed without revoking its leases (a crashed node) leaves them to expire one TTL later, as etcd
 * does when a client's keep-alives stop; the embedded store alone would keep them alive while it is open.
 * Called from one driving thread for {@link #restart} and {@link #close}.
 */
final class SharedEmbeddedStore implements AutoCloseable {

  /** One opening of the store; a client call that started on an older one saw the store go away. */
  private record Generation(int number, EmbeddedMetaStore store) {}

  private final Vertx vertx;
  private final Path dataDir;
  private final List<Client> clients = new CopyOnWriteArrayList<>();
  /** Null while the store is down. */
  private volatile Generation current;
  private int restarts;

  private SharedEmbeddedStore(Vertx vertx, Path dataDir) {
    this.vertx = vertx;
    this.dataDir = dataDir;
  }

  static SharedEmbeddedStore open(Vertx vertx, Path dataDir) {
    SharedEmbeddedStore shared = new SharedEmbeddedStore(vertx, dataDir);
    shared.current = new Generation(0, InJvmCluster.join(EmbeddedMetaStore.open(vertx, dataDir, EmbeddedMetaStore.Options.defaults())));
    return shared;
  }

  /** A new client (one per node, and one for the observer). */
  MetaStore client() {
    Client client = new Client();
    clients.add(client);
    return client;
  }

  /**
   * Stops the store as its process dying would, keeps it down for {@code down}, and opens it again on the
   * same directory. Returns when it serves again.
   */
  void restart(Duration down) {
    stop();
    try {
      Thread.sleep(down.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    start();
  }

  /** The first half of {@link #restart}: down until {@link #start()}. */
  void stop() {
    Generation stopping = current;
    current = null;
    clients.forEach(c -> c.storeStopped(stopping));
    InJvmCluster.join(stopping.store().close());
  }

  /** Opens the stopped store again on the same directory; returns when it serves. */
  void start() {
    current = new Generation(++restarts,
        InJvmCluster.join(EmbeddedMetaStore.open(vertx, dataDir, EmbeddedMetaStore.Options.defaults())));
  }

  @Override
  public void close() {
    Generation last = current;
    current = null;
    if (last != null) {
      InJvmCluster.join(last.store().close());
    }
  }

  private record LostHandler(Handler<Void> handler, AtomicBoolean notified) {}

  private static MetaStoreException down() {
    return new MetaStoreException(Reason.UNAVAILABLE, "the embedded metastore is restarting");
  }

  /** A node's connection to the shared store. */
  private final class Client implements MetaStore {
    private final Set<ClientLease> leases = ConcurrentHashMap.newKeySet();
    private final Set<ClientWatch> watches = ConcurrentHashMap.newKeySet();
    private final Election election = new ElectionRecipe(this);
    private final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public Future<Optional<KeyValue>> get(String key) {
      return call(store -> store.get(key));
    }

    @Override
    public Future<RangeResult> getPrefix(String prefix) {
      return call(store -> store.getPrefix(prefix));
    }

    @Override
    public Future<Long> put(String key, byte[] value, long leaseId) {
      return call(store -> store.put(key, value, leaseId));
    }

    @Override
    public Future<Boolean> delete(String key) {
      return call(store -> store.delete(key));
    }

    @Override
    public Future<TxnResult> txn(Txn txn) {
      return call(store -> store.txn(txn));
    }

    @Override
    public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
      ClientWatch watch = new ClientWatch(vertx.getOrCreateContext(), onError);
      Generation generation = current;
      if (closed.get() || generation == null) {
        watch.fail(closed.get() ? closedError() : down());
        return watch;
      }
      watches.add(watch);
      watch.delegate = generation.store().watchPrefix(prefix, fromRevision, onEvent,
          err -> watch.fail(translate(err, generation)));
      if (watch.isCancelled()) {
        watch.delegate.cancel();
      }
      return watch;
    }

    @Override
    public Future<Lease> grantLease(long ttlSeconds) {
      Context owner = vertx.getOrCreateContext();
      Generation generation = current;
      return call(store -> store.grantLease(ttlSeconds)).map(lease -> {
        ClientLease held = new ClientLease(lease, generation, owner);
        leases.add(held);
        if (current != generation) {
          held.lost(generation); // the store restarted while the grant was on its way back
        }
        return held;
      });
    }

    @Override
    public Election election() {
      return election;
    }

    /** Like a client whose process died: its leases are not revoked, so they expire one TTL from now. */
    @Override
    public Future<Void> close() {
      if (closed.compareAndSet(false, true)) {
        clients.remove(this);
        leases.forEach(ClientLease::orphan);
        leases.clear();
        watches.forEach(w -> w.fail(closedError()));
        watches.clear();
      }
      return Future.succeededFuture();
    }

    private void storeStopped(Generation stopped) {
      leases.forEach(lease -> lease.lost(stopped));
      leases.removeIf(lease -> lease.generation == stopped);
    }

    private <T> Future<T> call(Function<EmbeddedMetaStore, Future<T>> operation) {
      Generation generation = current;
      if (closed.get()) {
        return Future.failedFuture(closedError());
      }
      if (generation == null) {
        return Future.failedFuture(down());
      }
      return operation.apply(generation.store()).recover(err -> Future.failedFuture(translate(err, generation)));
    }

    /** A failure because the store went away (it reports itself closed) is, to a client, a store unavailable. */
    private Throwable translate(Throwable err, Generation generation) {
      if (closed.get()) {
        return closedError();
      }
      boolean storeClosed = err instanceof MetaStoreException e && e.reason() == Reason.CLOSED;
      return storeClosed || current != generation ? down() : err;
    }

    private MetaStoreException closedError() {
      return new MetaStoreException(Reason.CLOSED, "this metastore client is closed");
    }

    private final class ClientWatch implements Watch {
      private final Context context;
      private final Handler<Throwable> onError;
      private final AtomicBoolean ended = new AtomicBoolean();
      private volatile Watch delegate;

      ClientWatch(Context context, Handler<Throwable> onError) {
        this.context = context;
        this.onError = onError;
      }

      boolean isCancelled() {
        return ended.get();
      }

      void fail(Throwable error) {
        if (ended.compareAndSet(false, true)) {
          watches.remove(this);
          Watch current = delegate;
          if (current != null) {
            current.cancel();
          }
          context.runOnContext(v -> onError.handle(error));
        }
      }

      @Override
      public void cancel() {
        if (ended.compareAndSet(false, true)) {
          watches.remove(this);
          Watch current = delegate;
          if (current != null) {
            current.cancel();
          }
        }
      }
    }

    private final class ClientLease implements Lease {
      private enum State { ACTIVE, LOST, REVOKED, ORPHANED }

      private final Lease delegate;
      private final Generation generation;
      private final Context owner;
      private final AtomicReference<State> state = new AtomicReference<>(State.ACTIVE);
      /** Every role of a node registers its own reaction to the loss; each runs once. */
      private final List<LostHandler> lostHandlers = new CopyOnWriteArrayList<>();

      ClientLease(Lease delegate, Generation generation, Context owner) {
        this.delegate = delegate;
        this.generation = generation;
        this.owner = owner;
      }

      @Override
      public long id() {
        return delegate.id();
      }

      @Override
      public long ttlSeconds() {
        return delegate.ttlSeconds();
      }

      @Override
      public void onLost(Handler<Void> handler) {
        lostHandlers.add(new LostHandler(handler, new AtomicBoolean()));
        notifyLost();
      }

      /**
       * A lost lease is no longer this client's to revoke: the reopened store expires it on its own, as etcd
       * expires a lease whose keep-alives stopped.
       */
      @Override
      public Future<Void> revoke() {
        if (state.get() == State.LOST) {
          return Future.failedFuture(new MetaStoreException(Reason.LEASE_NOT_FOUND,
              "lease " + id() + " was lost when the metastore restarted"));
        }
        state.compareAndSet(State.ACTIVE, State.REVOKED);
        leases.remove(this);
        return call(store -> delegate.revoke());
      }

      void lost(Generation stopped) {
        if (generation == stopped && state.compareAndSet(State.ACTIVE, State.LOST)) {
          notifyLost();
        }
      }

      /** The client died: nobody keeps the lease alive any more, so it expires after its TTL. */
      void orphan() {
        if (state.compareAndSet(State.ACTIVE, State.ORPHANED)) {
          vertx.setTimer(Duration.ofSeconds(ttlSeconds()).toMillis(), t -> {
            // After a restart the reopened store expires it itself (it found it on disk).
            if (current == generation) {
              delegate.revoke();
            }
          });
        }
      }

      private void notifyLost() {
        if (state.get() != State.LOST) {
          return;
        }
        for (LostHandler lostHandler : lostHandlers) {
          if (lostHandler.notified().compareAndSet(false, true)) {
            owner.runOnContext(v -> lostHandler.handler().handle(null));
          }
        }
      }
    }
  }
}
