package io.feedline.common.metastore.embedded;

import io.feedline.common.metastore.ElectionRecipe;
import io.feedline.common.metastore.KeySpace;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.common.metastore.WatchEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.LongDataType;
import org.h2.mvstore.type.StringDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable single-node {@link MetaStore} with etcd semantics, kept in an H2 MVStore file in a data dir.
 *
 * <p>All MVStore access and all state run on one dedicated thread, never on an event loop; callers get
 * their futures and watch events back on their own context. Every write is committed and fsynced before
 * it is acknowledged or seen by a watch, and all maps change in one MVStore commit, so a crash never
 * leaves a half-applied transaction behind.
 *
 * <p>Leases: while the store is open it keeps its own leases alive (nothing can fail in between), so
 * they end only by {@link Lease#revoke()}. Leases found on disk when the store opens belonged to a
 * process that is gone: they get a fresh full TTL, like etcd's leases after a leader change, and then
 * expire, deleting their keys as one write with its own revision.
 *
 * <p>History: the events of the last {@link Options#historyRevisions()} revisions are kept, so a watch
 * can start from any of them; older revisions are compacted away.
 */
public final class EmbeddedMetaStore implements MetaStore {

  /**
   * @param clock the time lease expiry is measured in (tests inject their own)
   * @param historyRevisions how many revisions of watch history are kept
   */
  public record Options(Clock clock, int historyRevisions) {
    public Options {
      if (historyRevisions < 1) {
        throw new IllegalArgumentException("historyRevisions must be positive: " + historyRevisions);
      }
    }

    public static Options defaults() {
      return new Options(Clock.systemUTC(), 10_000);
    }

    public Options withClock(Clock clock) {
      return new Options(clock, historyRevisions);
    }

    public Options withHistoryRevisions(int historyRevisions) {
      return new Options(clock, historyRevisions);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedMetaStore.class);
  private static final String FILE_NAME = "metastore.mv.db";
  private static final String REVISION = "revision";
  private static final String COMPACT_REVISION = "compactRevision";
  private static final String LAST_LEASE_ID = "lastLeaseId";
  /** etcd's limit; keeps deadlines far from overflowing. */
  private static final long MAX_TTL_SECONDS = 9_000_000_000L;
  /** How often recovered leases are checked for expiry when no operation does it first. */
  private static final long EXPIRY_CHECK_MILLIS = 250;

  private final Vertx vertx;
  private final Path dataDir;
  private final Options options;
  private final ScheduledExecutorService storeThread;
  private final Election election = new ElectionRecipe(this);

  // Everything below is owned by the store thread.
  private MVStore mvStore;
  private MVMap<String, KeyValue> keyValues;
  /** etcd's rules over {@link #keyValues} and {@link #leaseKeys}. */
  private KeySpace keys;
  private MVMap<Long, List<WatchEvent>> history;
  /** lease id → TTL in seconds */
  private MVMap<Long, Long> leases;
  private MVMap<String, Long> meta;
  private long revision;
  /** Every revision up to and including this one is gone from the history. */
  private long compactRevision;
  private long lastLeaseId;
  /** Every lease → the keys bound to it. */
  private final Map<Long, Set<String>> leaseKeys = new HashMap<>();
  /** Leases found on disk at open → when they expire. Leases granted by this store are kept alive. */
  private final Map<Long, Long> recoveredLeaseDeadlines = new HashMap<>();
  private final List<StoreWatch> watches = new ArrayList<>();
  private boolean closed;
  /** Set when storage failed mid-write: memory and disk may disagree, so nothing is served any more. */
  private MetaStoreException failure;

  private EmbeddedMetaStore(Vertx vertx, Path dataDir, Options options) {
    this.vertx = vertx;
    this.dataDir = dataDir;
    this.options = options;
    this.storeThread = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "feedline-metastore-" + dataDir.getFileName());
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Opens (or creates) the store in {@code dataDir}. Only one store may have a data dir open at a time. */
  public static Future<EmbeddedMetaStore> open(Vertx vertx, Path dataDir, Options options) {
    EmbeddedMetaStore store = new EmbeddedMetaStore(vertx, dataDir, options);
    CompletableFuture<EmbeddedMetaStore> opened = new CompletableFuture<>();
    store.storeThread.execute(() -> {
      try {
        store.load();
        opened.complete(store);
      } catch (RuntimeException e) {
        if (store.mvStore != null) {
          store.mvStore.closeImmediately();
        }
        store.storeThread.shutdownNow();
        opened.completeExceptionally(
            new MetaStoreException(Reason.UNAVAILABLE, "cannot open the embedded metastore in " + dataDir, e));
      }
    });
    return Future.fromCompletionStage(opened, vertx.getOrCreateContext());
  }

  // ---------------------------------------------------------------------------------------------
  // MetaStore

  @Override
  public Future<Optional<KeyValue>> get(String key) {
    return call(() -> Optional.ofNullable(keyValues.get(key)).map(KeySpace::copy));
  }

  @Override
  public Future<RangeResult> getPrefix(String prefix) {
    return call(() -> {
      List<KeyValue> kvs = new ArrayList<>();
      Cursor<String, KeyValue> cursor = keyValues.cursor(prefix);
      while (cursor.hasNext() && cursor.next().startsWith(prefix)) {
        kvs.add(KeySpace.copy(cursor.getValue()));
      }
      return new RangeResult(kvs, revision);
    });
  }

  @Override
  public Future<Long> put(String key, byte[] value, long leaseId) {
    byte[] owned = value.clone();
    return call(() -> {
      keys.requireLease(leaseId);
      KeySpace.Write write = keys.write(revision + 1);
      write.put(key, owned, leaseId);
      return commit(write);
    });
  }

  @Override
  public Future<Boolean> delete(String key) {
    return call(() -> {
      KeySpace.Write write = keys.write(revision + 1);
      boolean existed = write.delete(key);
      commit(write);
      return existed;
    });
  }

  @Override
  public Future<TxnResult> txn(Txn txn) {
    return call(() -> {
      KeySpace.Applied applied = keys.txn(txn, revision + 1);
      return new TxnResult(applied.succeeded(), commit(applied.write()), applied.gets());
    });
  }

  @Override
  public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
    StoreWatch watch = new StoreWatch(prefix, vertx.getOrCreateContext(), onEvent, onError);
    try {
      storeThread.execute(() -> register(watch, fromRevision));
    } catch (RejectedExecutionException e) {
      watch.fail(closedError());
    }
    return watch;
  }

  @Override
  public Future<Lease> grantLease(long ttlSeconds) {
    if (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
      return Future.failedFuture(new IllegalArgumentException(
          "lease TTL must be between 1 and " + MAX_TTL_SECONDS + " s: " + ttlSeconds));
    }
    return call(() -> {
      long id = ++lastLeaseId;
      meta.put(LAST_LEASE_ID, id);
      leases.put(id, ttlSeconds);
      commitDurably();
      leaseKeys.put(id, new HashSet<>());
      return new StoreLease(id, ttlSeconds);
    });
  }

  @Override
  public Election election() {
    return election;
  }

  @Override
  public Future<Void> close() {
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      storeThread.execute(() -> {
        try {
          shutdown();
          done.complete(null);
        } catch (RuntimeException e) {
          done.completeExceptionally(e);
        }
      });
      // Already queued operations still run (and find the store closed); later ones are rejected.
      storeThread.shutdown();
    } catch (RejectedExecutionException alreadyClosed) {
      done.complete(null);
    }
    return Future.fromCompletionStage(done, context);
  }

  // ---------------------------------------------------------------------------------------------
  // store thread

  @FunctionalInterface
  private interface StoreOperation<T> {
    T run();
  }

  /** Runs {@code operation} on the store thread and completes on the caller's context. */
  private <T> Future<T> call(StoreOperation<T> operation) {
    Context context = vertx.getOrCreateContext();
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      storeThread.execute(() -> {
        try {
          requireUsable();
          expireDueLeases();
          result.complete(operation.run());
        } catch (MetaStoreException rejected) {
          result.completeExceptionally(rejected);
        } catch (RuntimeException e) {
          result.completeExceptionally(storageFailed(e));
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(closedError());
    }
    return Future.fromCompletionStage(result, context);
  }

  private void load() {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dataDir, e);
    }
    // Auto-commit off: MVStore's background writer must not persist half of a write.
    mvStore = new MVStore.Builder()
        .fileName(dataDir.resolve(FILE_NAME).toString())
        .autoCommitDisabled()
        .open();
    keyValues = mvStore.openMap("kv", new MVMap.Builder<String, KeyValue>()
        .keyType(StringDataType.INSTANCE)
        .valueType(DataTypes.KeyValueType.INSTANCE));
    keys = new KeySpace(keyValues, leaseKeys::get);
    history = mvStore.openMap("history", new MVMap.Builder<Long, List<WatchEvent>>()
        .keyType(LongDataType.INSTANCE)
        .valueType(DataTypes.EventsType.INSTANCE));
    leases = mvStore.openMap("leases", new MVMap.Builder<Long, Long>()
        .keyType(LongDataType.INSTANCE)
        .valueType(LongDataType.INSTANCE));
    meta = mvStore.openMap("meta", new MVMap.Builder<String, Long>()
        .keyType(StringDataType.INSTANCE)
        .valueType(LongDataType.INSTANCE));
    revision = meta.getOrDefault(REVISION, 0L);
    compactRevision = meta.getOrDefault(COMPACT_REVISION, 0L);
    lastLeaseId = meta.getOrDefault(LAST_LEASE_ID, 0L);

    long now = options.clock().millis();
    leases.forEach((id, ttl) -> {
      leaseKeys.put(id, new HashSet<>());
      recoveredLeaseDeadlines.put(id, now + TimeUnit.SECONDS.toMillis(ttl));
    });
    keyValues.forEach((key, kv) -> {
      Set<String> bound = leaseKeys.get(kv.lease());
      if (bound != null) {
        bound.add(key);
      }
    });
    storeThread.scheduleWithFixedDelay(this::expireInBackground, EXPIRY_CHECK_MILLIS, EXPIRY_CHECK_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  private void requireUsable() {
    if (failure != null) {
      throw failure;
    }
    if (closed) {
      throw closedError();
    }
  }

  private MetaStoreException closedError() {
    return new MetaStoreException(Reason.CLOSED, "embedded metastore in " + dataDir + " is closed");
  }

  /**
   * Anything but a {@link MetaStoreException} (which is only thrown before a write starts) comes from
   * storage, or a bug, possibly part-way through a write: stop serving.
   */
  private MetaStoreException storageFailed(RuntimeException cause) {
    if (failure == null) {
      failure = new MetaStoreException(Reason.UNAVAILABLE, "embedded metastore in " + dataDir + " failed", cause);
      LOG.error("Embedded metastore in {} failed; it serves nothing until reopened", dataDir, cause);
      endWatches(failure);
      mvStore.closeImmediately();
    }
    return failure;
  }

  private void shutdown() {
    if (closed) {
      return;
    }
    closed = true;
    endWatches(closedError());
    if (!mvStore.isClosed()) {
      mvStore.close();
    }
  }

  private void endWatches(MetaStoreException reason) {
    watches.forEach(watch -> watch.fail(reason));
    watches.clear();
  }

  private void commitDurably() {
    if (mvStore.hasUnsavedChanges()) {
      mvStore.commit();
      mvStore.sync();
    }
  }

  private void register(StoreWatch watch, long fromRevision) {
    if (watch.cancelled) {
      return;
    }
    try {
      requireUsable();
      expireDueLeases();
    } catch (MetaStoreException e) {
      watch.fail(e);
      return;
    } catch (RuntimeException e) {
      watch.fail(storageFailed(e));
      return;
    }
    long start = fromRevision == 0 ? revision + 1 : fromRevision;
    if (start <= compactRevision) {
      watch.fail(new MetaStoreException(Reason.COMPACTED,
          "revision " + start + " is compacted; history starts at " + (compactRevision + 1)));
      return;
    }
    Cursor<Long, List<WatchEvent>> replay = history.cursor(start);
    while (replay.hasNext()) {
      replay.next();
      watch.deliver(replay.getValue());
    }
    watch.nextRevision = Math.max(start, revision + 1);
    watches.add(watch);
  }

  private void notifyWatches(long writeRevision, List<WatchEvent> events) {
    Iterator<StoreWatch> it = watches.iterator();
    while (it.hasNext()) {
      StoreWatch watch = it.next();
      if (watch.cancelled) {
        it.remove();
      } else if (writeRevision >= watch.nextRevision) {
        watch.deliver(events);
        watch.nextRevision = writeRevision + 1;
      }
    }
  }

  private void expireInBackground() {
    if (closed || failure != null) {
      return;
    }
    try {
      expireDueLeases();
    } catch (RuntimeException e) {
      storageFailed(e);
    }
  }

  private void expireDueLeases() {
    long now = options.clock().millis();
    List<Long> due = new ArrayList<>();
    recoveredLeaseDeadlines.forEach((id, deadline) -> {
      if (deadline <= now) {
        due.add(id);
      }
    });
    for (long id : due) {
      LOG.info("Lease {} of a previous run expired; deleting its {} key(s)", id, leaseKeys.get(id).size());
      endLease(id);
    }
  }

  /** Revocation and expiry alike: delete the bound keys as one write, forget the lease. */
  private void endLease(long id) {
    Set<String> bound = leaseKeys.get(id);
    if (bound == null) {
      throw new MetaStoreException(Reason.LEASE_NOT_FOUND, "lease " + id + " not found");
    }
    KeySpace.Write write = keys.write(revision + 1);
    for (String key : List.copyOf(bound)) {
      write.delete(key);
    }
    leases.remove(id);
    leaseKeys.remove(id);
    recoveredLeaseDeadlines.remove(id);
    commit(write);
  }

  /** Persists {@code write}; returns the store revision after it (unchanged when nothing changed). */
  private long commit(KeySpace.Write write) {
    List<WatchEvent> events = write.events();
    if (!events.isEmpty()) {
      revision = write.revision();
      meta.put(REVISION, revision);
      history.put(revision, events);
      long oldestKept = revision - options.historyRevisions() + 1;
      while (compactRevision < oldestKept - 1) {
        history.remove(++compactRevision);
      }
      meta.put(COMPACT_REVISION, compactRevision);
    }
    commitDurably();
    if (!events.isEmpty()) {
      notifyWatches(revision, events);
    }
    return revision;
  }

  private final class StoreLease implements Lease {
    private final long id;
    private final long ttlSeconds;

    StoreLease(long id, long ttlSeconds) {
      this.id = id;
      this.ttlSeconds = ttlSeconds;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public long ttlSeconds() {
      return ttlSeconds;
    }

    /** Never called: an open store keeps its leases alive itself, there is no keep-alive that can fail. */
    @Override
    public void onLost(Handler<Void> handler) {}

    @Override
    public Future<Void> revoke() {
      return call(() -> {
        endLease(id);
        return null;
      });
    }
  }

  /** A watch; registration, replay and notification happen on the store thread, delivery on its context. */
  private static final class StoreWatch implements Watch {
    private final String prefix;
    private final Context context;
    private final Handler<WatchEvent> onEvent;
    private final Handler<Throwable> onError;
    private volatile boolean cancelled;
    /** Store thread only: the first revision not yet delivered. */
    private long nextRevision;
    private boolean failed;

    StoreWatch(String prefix, Context context, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
      this.prefix = prefix;
      this.context = context;
      this.onEvent = onEvent;
      this.onError = onError;
    }

    void deliver(List<WatchEvent> events) {
      List<WatchEvent> matching = new ArrayList<>();
      for (WatchEvent event : events) {
        if (event.kv().key().startsWith(prefix)) {
          matching.add(new WatchEvent(event.type(), KeySpace.copy(event.kv())));
        }
      }
      if (!matching.isEmpty()) {
        context.runOnContext(v -> matching.forEach(event -> {
          if (!cancelled) {
            onEvent.handle(event);
          }
        }));
      }
    }

    void fail(Throwable error) {
      if (failed) {
        return;
      }
      failed = true;
      context.runOnContext(v -> {
        if (!cancelled) {
          onError.handle(error);
        }
      });
    }

    /** The store thread drops the watch at its next write. */
    @Override
    public void cancel() {
      cancelled = true;
    }
  }
}
