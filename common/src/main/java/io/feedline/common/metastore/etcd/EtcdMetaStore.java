package io.feedline.common.metastore.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.feedline.common.metastore.ElectionRecipe;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.LeaseValidity;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.Reachability;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.common.metastore.WatchEvent;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MetaStore} over etcd v3 through jetcd.
 *
 * <p>jetcd gets a small Vert.x instance of its own instead of ours: it closes the instance it is given
 * when the client closes, and it binds its lease keep-alive timers to whatever context calls it first, so
 * on a shared instance they would die with the first verticle to be undeployed. Its single event loop
 * also keeps keep-alives and watches going while our event loops are busy. Results still come back on the
 * caller's context of our Vert.x instance.
 *
 * <p>Every request fails with {@link Reason#UNAVAILABLE} after the request timeout; jetcd itself would
 * wait for etcd forever. A timed-out write may still have been applied.
 */
public final class EtcdMetaStore implements MetaStore {

  private static final Logger LOG = LoggerFactory.getLogger(EtcdMetaStore.class);

  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Vertx clientVertx;
  private final Client client;
  private final long requestTimeoutMillis;
  private final Election election = new ElectionRecipe(this);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Reachability reachability = new Reachability(java.time.Clock.systemUTC());
  /** jetcd's gRPC channel, found on the first failed keep-alive (see {@link #reconnectNow}). */
  private volatile ManagedChannel channel;
  private volatile boolean channelUnreachable;

  public EtcdMetaStore(Vertx vertx, List<String> endpoints, Duration requestTimeout) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no etcd endpoints");
    }
    this.vertx = vertx;
    this.requestTimeoutMillis = requestTimeout.toMillis();
    this.clientVertx = newClientVertx();
    this.client = Client.builder()
        .endpoints(endpoints.toArray(String[]::new))
        .vertx(clientVertx)
        .build();
  }

  /**
   * jetcd's own small Vert.x. Created off any Vert.x thread: it is deliberately a separate instance, and
   * Vert.x would otherwise warn that a second instance is being created from inside the first.
   */
  private static Vertx newClientVertx() {
    VertxOptions options = new VertxOptions()
        .setEventLoopPoolSize(1)
        .setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1)
        .setUseDaemonThread(true);
    if (!Context.isOnVertxThread()) {
      return Vertx.vertx(options);
    }
    java.util.concurrent.CompletableFuture<Vertx> created = new java.util.concurrent.CompletableFuture<>();
    Thread creator = new Thread(() -> {
      try {
        created.complete(Vertx.vertx(options));
      } catch (RuntimeException e) {
        created.completeExceptionally(e);
      }
    }, "etcd-client-vertx-init");
    creator.start();
    return created.join();
  }

  @Override
  public Future<Optional<KeyValue>> get(String key) {
    return request(() -> client.getKVClient().get(bytes(key)))
        .map(response -> response.getKvs().stream().findFirst().map(EtcdMetaStore::keyValue));
  }

  @Override
  public Future<RangeResult> getPrefix(String prefix) {
    GetOption byKey = GetOption.builder()
        .isPrefix(true)
        .withSortField(GetOption.SortTarget.KEY)
        .withSortOrder(GetOption.SortOrder.ASCEND)
        .build();
    return request(() -> client.getKVClient().get(bytes(prefix), byKey)).map(response -> new RangeResult(
        response.getKvs().stream().map(EtcdMetaStore::keyValue).toList(),
        response.getHeader().getRevision()));
  }

  @Override
  public Future<Long> put(String key, byte[] value, long leaseId) {
    return request(() -> client.getKVClient().put(bytes(key), ByteSequence.from(value), putOption(leaseId)))
        .map(response -> response.getHeader().getRevision());
  }

  @Override
  public Future<Boolean> delete(String key) {
    return request(() -> client.getKVClient().delete(bytes(key))).map(response -> response.getDeleted() > 0);
  }

  @Override
  public Future<TxnResult> txn(Txn txn) {
    Cmp[] compares = txn.compares().stream().map(EtcdMetaStore::cmp).toArray(Cmp[]::new);
    io.etcd.jetcd.op.Op[] success = ops(txn.success());
    io.etcd.jetcd.op.Op[] failure = ops(txn.failure());
    return request(() -> client.getKVClient().txn().If(compares).Then(success).Else(failure).commit())
        .map(response -> new TxnResult(
            response.isSucceeded(),
            response.getHeader().getRevision(),
            response.getGetResponses().stream().map(EtcdMetaStore::first).toList()));
  }

  @Override
  public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
    EtcdWatch watch = new EtcdWatch(vertx.getOrCreateContext(), onEvent, onError);
    WatchOption option = WatchOption.builder().isPrefix(true).withRevision(fromRevision).build();
    try {
      watch.start(client.getWatchClient().watch(bytes(prefix), option, io.etcd.jetcd.Watch.listener(
          watch::onNext, watch::onError, watch::onCompleted)));
    } catch (RuntimeException e) {
      watch.onError(e);
    }
    return watch;
  }

  @Override
  public Future<Lease> grantLease(long ttlSeconds) {
    Context owner = vertx.getOrCreateContext();
    long sentAt = System.nanoTime();
    return request(() -> client.getLeaseClient().grant(ttlSeconds)).compose(response -> {
      EtcdLease lease = new EtcdLease(response.getID(), response.getTTL(), owner, sentAt);
      try {
        lease.keepAlive();
      } catch (RuntimeException e) {
        return Future.failedFuture(translate(e));
      }
      return Future.succeededFuture(lease);
    });
  }

  @Override
  public Election election() {
    return election;
  }

  @Override
  public Future<Void> close() {
    if (!closed.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    Context context = vertx.getOrCreateContext();
    // Ends watches (their listeners see onCompleted) and keep-alives, then jetcd's Vert.x.
    client.close();
    return Future.fromCompletionStage(clientVertx.close().toCompletionStage(), context);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Calls jetcd and completes on the caller's context, with errors translated and a deadline jetcd does
   * not have. A closed jetcd client may throw instead of failing its future.
   */
  private <T> Future<T> request(Supplier<CompletionStage<T>> call) {
    if (closed.get()) {
      return Future.failedFuture(new MetaStoreException(Reason.CLOSED, "etcd metastore is closed"));
    }
    Context context = vertx.getOrCreateContext();
    CompletionStage<T> pending;
    try {
      pending = call.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(translate(e));
    }
    return Future.fromCompletionStage(pending, context)
        .timeout(requestTimeoutMillis, TimeUnit.MILLISECONDS)
        .<T>transform(ar -> {
          if (ar.succeeded()) {
            reachability.reached();
            return Future.succeededFuture(ar.result());
          }
          MetaStoreException error = translate(ar.cause());
          if (error.reason() == Reason.UNAVAILABLE) {
            reachability.failed(error);
          }
          return Future.failedFuture(error);
        });
  }

  /**
   * Asks gRPC to connect again at once instead of after its reconnect backoff (1 s growing by 1.6 up to
   * 2 min): by the time etcd is back from a 5 s outage the next attempt may be 4 s away, and the lease's
   * validity would run out meanwhile. jetcd offers no channel setting for it, so the channel is reached
   * through jetcd's connection manager; if a jetcd version moves it, this does nothing (and says so once).
   */
  private void reconnectNow() {
    if (channelUnreachable) {
      return;
    }
    ManagedChannel ch = channel;
    if (ch == null) {
      ch = channel = jetcdChannel(client);
      channelUnreachable = ch == null;
    }
    if (ch != null) {
      ch.resetConnectBackoff();
    }
  }

  private static ManagedChannel jetcdChannel(Client client) {
    try {
      java.lang.reflect.Field managerField = client.getClass().getDeclaredField("connectionManager");
      managerField.setAccessible(true);
      Object manager = managerField.get(client);
      java.lang.reflect.Method getChannel = manager.getClass().getDeclaredMethod("getChannel");
      getChannel.setAccessible(true);
      return (ManagedChannel) getChannel.invoke(manager);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("event=etcd_channel_unreachable detail=\"{}\" effect=\"reconnects follow gRPC's backoff\"", e.toString());
      return null;
    }
  }

  @Override
  public Optional<Reachability.Outage> outage() {
    return reachability.outage();
  }

  private MetaStoreException translate(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof MetaStoreException e) {
      return e;
    }
    if (closed.get()) {
      return new MetaStoreException(Reason.CLOSED, "etcd metastore is closed", cause);
    }
    if (cause instanceof CompactedException) {
      return new MetaStoreException(Reason.COMPACTED, cause.getMessage(), cause);
    }
    // In the KV and lease APIs etcd answers NOT_FOUND only for a missing lease. jetcd passes some gRPC
    // errors on as they are and wraps others.
    boolean notFound = cause instanceof EtcdException e
        ? e.getErrorCode() == ErrorCode.NOT_FOUND
        : Status.fromThrowable(cause).getCode() == Status.Code.NOT_FOUND;
    if (notFound) {
      return new MetaStoreException(Reason.LEASE_NOT_FOUND, cause.getMessage(), cause);
    }
    if (cause instanceof TimeoutException) {
      return new MetaStoreException(Reason.UNAVAILABLE,
          "etcd did not answer within " + requestTimeoutMillis + " ms; a write may still have been applied", cause);
    }
    return new MetaStoreException(Reason.UNAVAILABLE, "etcd request failed: " + cause.getMessage(), cause);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static PutOption putOption(long leaseId) {
    return leaseId == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(leaseId).build();
  }

  private static KeyValue keyValue(io.etcd.jetcd.KeyValue kv) {
    return new KeyValue(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().getBytes(),
        kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(), kv.getLease());
  }

  private static Optional<KeyValue> first(GetResponse response) {
    return response.getKvs().stream().findFirst().map(EtcdMetaStore::keyValue);
  }

  private static Cmp cmp(Txn.Compare compare) {
    CmpTarget<?> target = switch (compare.target()) {
      case MOD_REVISION -> CmpTarget.modRevision(compare.expected());
      case CREATE_REVISION -> CmpTarget.createRevision(compare.expected());
      case VERSION -> CmpTarget.version(compare.expected());
    };
    return new Cmp(bytes(compare.key()), Cmp.Op.EQUAL, target);
  }

  private static io.etcd.jetcd.op.Op[] ops(List<Txn.Op> ops) {
    return ops.stream().map(EtcdMetaStore::op).toArray(io.etcd.jetcd.op.Op[]::new);
  }

  private static io.etcd.jetcd.op.Op op(Txn.Op op) {
    if (op instanceof Txn.Op.Put put) {
      return io.etcd.jetcd.op.Op.put(bytes(put.key()), ByteSequence.from(put.value()), putOption(put.leaseId()));
    }
    if (op instanceof Txn.Op.Delete delete) {
      return io.etcd.jetcd.op.Op.delete(bytes(delete.key()), DeleteOption.DEFAULT);
    }
    Txn.Op.Get get = (Txn.Op.Get) op;
    return io.etcd.jetcd.op.Op.get(bytes(get.key()), GetOption.DEFAULT);
  }

  /** A jetcd watcher whose callbacks (on jetcd threads) are replayed in order on the caller's context. */
  private final class EtcdWatch implements Watch {
    private final Context context;
    private final Handler<WatchEvent> onEvent;
    private final Handler<Throwable> onError;
    /** Set once, by cancel or by the first error: afterwards nothing reaches the handlers. */
    private final AtomicBoolean over = new AtomicBoolean();
    private final AtomicReference<io.etcd.jetcd.Watch.Watcher> watcher = new AtomicReference<>();

    EtcdWatch(Context context, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
      this.context = context;
      this.onEvent = onEvent;
      this.onError = onError;
    }

    void start(io.etcd.jetcd.Watch.Watcher started) {
      watcher.set(started);
      // An error may have ended the watch before jetcd handed out the watcher.
      if (over.get()) {
        started.close();
      }
    }

    void onNext(io.etcd.jetcd.watch.WatchResponse response) {
      List<WatchEvent> events = response.getEvents().stream()
          .filter(event -> event.getEventType() != io.etcd.jetcd.watch.WatchEvent.EventType.UNRECOGNIZED)
          .map(event -> new WatchEvent(
              event.getEventType() == io.etcd.jetcd.watch.WatchEvent.EventType.PUT
                  ? WatchEvent.Type.PUT
                  : WatchEvent.Type.DELETE,
              keyValue(event.getKeyValue())))
          .toList();
      if (!events.isEmpty()) {
        context.runOnContext(v -> events.forEach(event -> {
          if (!over.get()) {
            onEvent.handle(event);
          }
        }));
      }
    }

    /**
     * jetcd reports transient errors too and then resumes on its own; the contract is that a broken watch
     * ends with one error, so the caller resumes from the last revision it saw.
     */
    void onError(Throwable error) {
      end(translate(error));
    }

    /** jetcd completes a listener when the watcher or the client closes, or the server ends the stream. */
    void onCompleted() {
      end(closed.get()
          ? new MetaStoreException(Reason.CLOSED, "etcd metastore is closed")
          : new MetaStoreException(Reason.UNAVAILABLE, "etcd ended the watch"));
    }

    private void end(MetaStoreException error) {
      if (!over.compareAndSet(false, true)) {
        return;
      }
      io.etcd.jetcd.Watch.Watcher current = watcher.get();
      if (current != null) {
        current.close();
      }
      context.runOnContext(v -> onError.handle(error));
    }

    @Override
    public void cancel() {
      if (over.compareAndSet(false, true)) {
        io.etcd.jetcd.Watch.Watcher current = watcher.get();
        if (current != null) {
          current.close();
        }
      }
    }
  }

  /**
   * A lease kept alive by this client's own loop of single keep-alives rather than jetcd's keep-alive
   * stream, which ends at the first broken connection: a restart of etcd, or a leader change, shorter than
   * the lease's validity must cost nothing. The lease is taken as lost (and keep-alive stops, so it does
   * expire for everyone) when etcd says it no longer exists, or when {@link LeaseValidity} says it may
   * have expired: a keep-alive acknowledged within the TTL minus the safety margin, counted from when it
   * was sent, is the only proof that nobody else can own what this node owns.
   */
  private final class EtcdLease implements Lease {
    private enum State { ACTIVE, LOST, REVOKED }

    private final long id;
    private final long ttlSeconds;
    private final Context owner;
    private final LeaseValidity validity;
    private final AtomicReference<State> state = new AtomicReference<>(State.ACTIVE);
    /** Every role of the node registers its own reaction to the loss (self-fence); each runs once. */
    private final List<LostHandler> lostHandlers = new CopyOnWriteArrayList<>();
    private long deadlineTimer = -1;

    EtcdLease(long id, long ttlSeconds, Context owner, long grantSentAtNanos) {
      this.id = id;
      this.ttlSeconds = ttlSeconds;
      this.owner = owner;
      this.validity = new LeaseValidity(Duration.ofSeconds(ttlSeconds), grantSentAtNanos);
    }

    /** Starts the keep-alive loop and the deadline, on jetcd's event loop (alive while ours are busy). */
    void keepAlive() {
      clientVertx.runOnContext(v -> {
        armDeadline();
        refresh();
      });
    }

    /**
     * One keep-alive. Not answered within the timeout, it counts as failed (the next one is sent soon, and
     * gRPC is asked to reconnect), but a late answer still counts, from when it was sent: a slow etcd is
     * not a lost lease. Everything here runs on jetcd's single event loop.
     */
    private void refresh() {
      if (!active()) {
        return;
      }
      long sentAt = System.nanoTime();
      Attempt attempt = new Attempt();
      CompletionStage<LeaseKeepAliveResponse> pending;
      try {
        pending = client.getLeaseClient().keepAliveOnce(id);
      } catch (RuntimeException e) {
        failed(attempt, e);
        return;
      }
      long timeoutMillis = validity.keepAliveTimeout().toMillis();
      long timer = clientVertx.setTimer(timeoutMillis, t -> failed(attempt,
          new MetaStoreException(Reason.UNAVAILABLE, "no keep-alive answer within " + timeoutMillis + " ms")));
      Future.fromCompletionStage(pending, Vertx.currentContext()).onComplete(ar -> {
        clientVertx.cancelTimer(timer);
        answered(attempt, sentAt, ar.result(), ar.cause());
      });
    }

    private void answered(Attempt attempt, long sentAtNanos, LeaseKeepAliveResponse response, Throwable failure) {
      if (!active()) {
        return;
      }
      MetaStoreException error = failure == null ? null : translate(failure);
      if ((response != null && response.getTTL() <= 0) || (error != null && error.reason() == Reason.LEASE_NOT_FOUND)) {
        lost("etcd no longer knows the lease");
        return;
      }
      if (error != null) {
        failed(attempt, error);
        return;
      }
      reachability.reached();
      validity.acknowledged(sentAtNanos);
      armDeadline();
      next(attempt, validity.keepAliveInterval());
    }

    private void failed(Attempt attempt, Throwable error) {
      if (!active()) {
        return;
      }
      reachability.failed(error);
      reconnectNow();
      next(attempt, validity.retryInterval());
    }

    /** Each attempt leads to one next attempt, whether it failed first (timeout) and answered later or not. */
    private void next(Attempt attempt, Duration delay) {
      if (!attempt.followed) {
        attempt.followed = true;
        clientVertx.setTimer(delay.toMillis(), t -> refresh());
      }
    }

    private boolean active() {
      return state.get() == State.ACTIVE && !closed.get();
    }

    private void armDeadline() {
      if (deadlineTimer >= 0) {
        clientVertx.cancelTimer(deadlineTimer);
        deadlineTimer = -1;
      }
      if (!active()) {
        return;
      }
      long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(validity.remainingNanos(System.nanoTime())));
      deadlineTimer = clientVertx.setTimer(delayMillis, t -> {
        deadlineTimer = -1;
        if (validity.remainingNanos(System.nanoTime()) <= 0) {
          lost("no keep-alive acknowledged for " + validity.validFor().toMillis() + " ms (TTL " + ttlSeconds + " s minus the "
              + validity.safetyMargin().toMillis() + " ms safety margin)");
        } else {
          armDeadline();
        }
      });
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public long ttlSeconds() {
      return ttlSeconds;
    }

    @Override
    public void onLost(Handler<Void> handler) {
      lostHandlers.add(new LostHandler(handler));
      notifyLost();
    }

    @Override
    public Future<Void> revoke() {
      state.compareAndSet(State.ACTIVE, State.REVOKED);
      return request(() -> client.getLeaseClient().revoke(id)).mapEmpty();
    }

    private void lost(String why) {
      if (closed.get() || !state.compareAndSet(State.ACTIVE, State.LOST)) {
        return;
      }
      // Keep-alive stops with the state, so the lease really does expire and everyone else sees it gone too.
      LOG.warn("event=lease_lost lease={} ttl_s={} reason=\"{}\"", Long.toHexString(id), ttlSeconds, why);
      notifyLost();
    }

    /** Called after the loss and after adding a handler: whichever sees both runs each handler, once. */
    private void notifyLost() {
      if (state.get() != State.LOST) {
        return;
      }
      for (LostHandler handler : lostHandlers) {
        if (handler.notified.compareAndSet(false, true)) {
          owner.runOnContext(v -> handler.handler.handle(null));
        }
      }
    }
  }

  /** One keep-alive sent; whether the next one was scheduled after it. */
  private static final class Attempt {
    boolean followed;
  }

  private record LostHandler(Handler<Void> handler, AtomicBoolean notified) {
    LostHandler(Handler<Void> handler) {
      this(handler, new AtomicBoolean());
    }
  }
}
