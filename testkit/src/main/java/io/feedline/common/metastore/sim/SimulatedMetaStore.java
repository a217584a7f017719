package io.feedline.common.metastore.sim;

import io.feedline.common.config.Timings;
import io.feedline.common.metastore.ElectionRecipe;
import io.feedline.common.metastore.KeySpace;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.LeaseValidity;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.MetaStoreException;
import io.feedline.common.metastore.MetaStoreException.Reason;
import io.feedline.common.metastore.Reachability;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.time.ManualScheduler;
import io.feedline.common.time.Scheduler.Cancellable;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * An in-memory etcd for a deterministic simulation: the server state that every simulated node shares, each
 * through its own {@link Client} (one node's connection). Semantics are {@code EmbeddedMetaStore}'s: one
 * revision counter, compares on create/mod revision and version, leases deleting their keys in one revision,
 * watches replaying a bounded history.
 *
 * <p>Deterministic by construction: no threads, no wall clock, no randomness of its own, no iteration over
 * identity hashes. Everything happens in tasks of the {@link ManualScheduler}, so the same calls with the same
 * latencies give the same outcome at the same simulated time. A client's connection is two links (to the server
 * and back), each delivering its messages in the order sent, after a latency drawn from the injected supplier: a
 * request is applied when it reaches the server, and its future completes when the answer is back, never inline.
 * Futures are plain Vert.x promises, completed on the thread that runs the scheduler; nothing here is
 * thread-safe, so that thread is the only one to call it.
 *
 * <p>Faults model what a real etcd client sees: {@link Client#disconnect()} (a broken connection),
 * {@link Client#crash()} (the process died), {@link #unavailable(boolean)} (etcd stopped) and {@link #compact}.
 */
public final class SimulatedMetaStore {

  /** Revisions of watch history kept; older ones are compacted away, as by etcd's auto-compaction. */
  private static final int HISTORY_REVISIONS = 10_000;
  /** etcd's limit; keeps deadlines far from overflowing. */
  private static final long MAX_TTL_SECONDS = 9_000_000_000L;

  private final ManualScheduler scheduler;
  private final LongSupplier latencyMillis;
  private final TreeMap<String, KeyValue> keyValues = new TreeMap<>();
  private final TreeMap<Long, List<WatchEvent>> history = new TreeMap<>();
  private final TreeMap<Long, ServerLease> leases = new TreeMap<>();
  /** etcd's rules over {@link #keyValues} and the leases' keys, as the embedded store has them. */
  private final KeySpace keys = new KeySpace(keyValues, id -> {
    ServerLease lease = leases.get(id);
    return lease == null ? null : lease.keys;
  });
  private final List<Registration> registrations = new ArrayList<>();
  private final List<Client> clients = new ArrayList<>();
  private final List<Consumer<List<WatchEvent>>> commitListeners = new ArrayList<>();
  private long revision;
  /** Every revision up to and including this one is gone from the history. */
  private long compactRevision;
  private long lastLeaseId;
  private boolean down;

  /**
   * @param latencyMillis the one-way delay of each message between a client and the server, drawn once per
   *     message in the order they are sent (0 is allowed: the message still arrives in a task of its own)
   */
  public SimulatedMetaStore(ManualScheduler scheduler, LongSupplier latencyMillis) {
    this.scheduler = scheduler;
    this.latencyMillis = latencyMillis;
  }

  /** A new connection to this store, as one node opens it; {@code name} appears in its error messages. */
  public Client client(String name) {
    Client client = new Client(name);
    clients.add(client);
    client.connectIfPossible();
    return client;
  }

  // ---------------------------------------------------------------------------------------------
  // fault controls and views for the simulator

  /**
   * Stops ({@code true}) or restarts ({@code false}) the whole store, like etcd going down for every client.
   * While down, every connection is broken: requests and keep-alives fail with {@link Reason#UNAVAILABLE},
   * nothing is written and no lease expires, since a stopped server counts no time. On restart every lease's
   * deadline is reset to now + TTL, as etcd does when a new leader takes over the lessor, and clients connect
   * again and resume their watches.
   */
  public void unavailable(boolean down) {
    if (this.down == down) {
      return;
    }
    this.down = down;
    if (down) {
      clients.forEach(Client::connectionLost);
    } else {
      leases.values().forEach(ServerLease::restart);
      clients.forEach(Client::connectIfPossible);
    }
  }

  /** Drops the history up to and including {@code revision}, like etcd's compact: older watches fail. */
  public void compact(long revision) {
    if (revision > this.revision) {
      throw new IllegalArgumentException("cannot compact revision " + revision + ": the store is at " + this.revision);
    }
    history.headMap(revision, true).clear();
    compactRevision = Math.max(compactRevision, revision);
  }

  /** The store's current revision. */
  public long revision() {
    return revision;
  }

  /** The key as the server holds it now, without a request. */
  public Optional<KeyValue> peek(String key) {
    return Optional.ofNullable(keyValues.get(key)).map(KeySpace::copy);
  }

  /** Every key under {@code prefix} as the server holds it now, sorted by key, without a request. */
  public List<KeyValue> peekPrefix(String prefix) {
    return under(prefix).stream().map(KeySpace::copy).toList();
  }

  /**
   * Calls {@code listener} synchronously after every committed write with its events (one revision), in
   * revision order: an invariant checker sees every persisted change before any client hears of it.
   */
  public void onCommit(Consumer<List<WatchEvent>> listener) {
    commitListeners.add(listener);
  }

  // ---------------------------------------------------------------------------------------------
  // server: runs when a request reaches it

  private List<KeyValue> under(String prefix) {
    List<KeyValue> kvs = new ArrayList<>();
    for (Map.Entry<String, KeyValue> entry : keyValues.tailMap(prefix, true).entrySet()) {
      if (!entry.getKey().startsWith(prefix)) {
        break;
      }
      kvs.add(entry.getValue());
    }
    return kvs;
  }

  private long put(String key, byte[] value, long leaseId) {
    keys.requireLease(leaseId);
    KeySpace.Write write = keys.write(revision + 1);
    write.put(key, value, leaseId);
    return commit(write);
  }

  private boolean delete(String key) {
    KeySpace.Write write = keys.write(revision + 1);
    boolean existed = write.delete(key);
    commit(write);
    return existed;
  }

  private TxnResult txn(Txn txn) {
    KeySpace.Applied applied = keys.txn(txn, revision + 1);
    return new TxnResult(applied.succeeded(), commit(applied.write()), applied.gets());
  }

  private long grant(long ttlSeconds) {
    ServerLease lease = new ServerLease(++lastLeaseId, ttlSeconds * 1000);
    leases.put(lease.id, lease);
    lease.restart();
    return lease.id;
  }

  private ServerLease lease(long id) {
    ServerLease lease = leases.get(id);
    if (lease == null) {
      throw new MetaStoreException(Reason.LEASE_NOT_FOUND, "lease " + id + " not found");
    }
    return lease;
  }

  /**
   * Run before serving any request, as {@code EmbeddedMetaStore} does: a lease at its deadline is gone even if
   * its expiry task, due at the same instant, has not run yet, so a keep-alive arriving then cannot revive it.
   */
  private void expireDueLeases() {
    List.copyOf(leases.values()).stream().filter(ServerLease::due).forEach(this::endLease);
  }

  /** Revocation and expiry alike: delete the bound keys as one write, forget the lease. */
  private void endLease(ServerLease lease) {
    leases.remove(lease.id);
    lease.expiry.cancel();
    KeySpace.Write write = keys.write(revision + 1);
    for (String key : List.copyOf(lease.keys)) {
      write.delete(key);
    }
    commit(write);
  }

  private void register(Client client, Object connection, Client.ClientWatch watch) {
    expireDueLeases();
    long start = watch.next == 0 ? revision + 1 : watch.next;
    if (start <= compactRevision) {
      MetaStoreException compacted = new MetaStoreException(Reason.COMPACTED,
          "revision " + start + " is compacted; history starts at " + (compactRevision + 1));
      client.toClient.send(() -> watch.failOn(connection, compacted));
      return;
    }
    List<WatchEvent> replay = new ArrayList<>();
    history.tailMap(start, true).values().forEach(replay::addAll);
    List<WatchEvent> matching = watch.matching(replay);
    client.toClient.send(() -> watch.start(connection, start, matching));
    registrations.add(new Registration(client, connection, watch));
  }

  private void publish(List<WatchEvent> events) {
    registrations.removeIf(registration -> !registration.live());
    for (Registration registration : registrations) {
      List<WatchEvent> matching = registration.watch.matching(events);
      if (!matching.isEmpty()) {
        registration.client.toClient.send(() -> registration.watch.deliver(registration.connection, matching));
      }
    }
  }

  private static MetaStoreException closedError(String name) {
    return new MetaStoreException(Reason.CLOSED, "simulated metastore client " + name + " is closed");
  }

  /** Commits {@code write}; returns the store revision after it (unchanged when nothing changed). */
  private long commit(KeySpace.Write write) {
    if (write.events().isEmpty()) {
      return revision;
    }
    revision = write.revision();
    List<WatchEvent> committed = List.copyOf(write.events());
    history.put(revision, committed);
    if (history.size() > HISTORY_REVISIONS) {
      compactRevision = history.pollFirstEntry().getKey();
    }
    publish(committed);
    commitListeners.forEach(listener -> listener.accept(committed));
    return revision;
  }

  /** A lease as the server keeps it: expires when {@code now >= deadline}, checked by a task at the deadline. */
  private final class ServerLease {
    private final long id;
    private final long ttlMillis;
    private final TreeSet<String> keys = new TreeSet<>();
    private long deadline;
    private Cancellable expiry = () -> { };

    ServerLease(long id, long ttlMillis) {
      this.id = id;
      this.ttlMillis = ttlMillis;
    }

    /** A full TTL from now: at grant, and for every lease when a stopped store starts again. */
    void restart() {
      renew();
      armExpiry();
    }

    /** A keep-alive: the running expiry task finds the later deadline and waits again. */
    void renew() {
      deadline = scheduler.nowMillis() + ttlMillis;
    }

    boolean due() {
      return scheduler.nowMillis() >= deadline;
    }

    private void armExpiry() {
      expiry.cancel();
      expiry = scheduler.schedule(deadline - scheduler.nowMillis(), this::expireIfDue);
    }

    /** A stopped store does nothing; its restart gives every lease a fresh deadline and task. */
    private void expireIfDue() {
      if (down || leases.get(id) != this) {
        return;
      }
      if (due()) {
        endLease(this);
      } else {
        armExpiry();
      }
    }
  }

  /** A watch the server streams to a client over one connection; it ends with that connection. */
  private record Registration(Client client, Object connection, Client.ClientWatch watch) {
    boolean live() {
      return !client.crashed && client.connection == connection && !watch.over;
    }
  }

  /** A request's outcome at the server, carried back to the client. */
  private record Answer<T>(T value, MetaStoreException error) {
    static <T> Answer<T> of(Supplier<T> operation) {
      try {
        return new Answer<>(operation.get(), null);
      } catch (MetaStoreException e) {
        return new Answer<>(null, e);
      }
    }
  }

  /** One direction of a connection: messages arrive in the order sent, each after its latency. */
  private final class Link {
    private long lastArrival;

    void send(Runnable arrival) {
      long latency = latencyMillis.getAsLong();
      if (latency < 0) {
        throw new IllegalStateException("negative latency: " + latency);
      }
      long now = scheduler.nowMillis();
      lastArrival = Math.max(now + latency, lastArrival);
      scheduler.schedule(lastArrival - now, arrival);
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * One node's connection to the store, a {@link MetaStore} like the etcd client: its requests fail with
   * {@link Reason#UNAVAILABLE} while it is not connected, it keeps its own leases alive, and its watches
   * resume after a reconnect.
   *
   * <p>Leases: a keep-alive is sent every TTL/3. The lease is taken as lost (its {@code onLost} handlers run,
   * once, and keep-alive stops) when a keep-alive answer says the lease is gone, or when its validity has passed
   * since the last acknowledged keep-alive was <em>sent</em>: the TTL less {@link LeaseValidity}'s safety margin,
   * as a node's etcd client counts it, so a simulated node fences itself as early as a real one does. The server
   * renewed the lease when that keep-alive arrived, later, so a node sees its loss before the server expires the
   * lease. A lease shorter than any session ({@link Timings#MIN_SESSION_TTL}, the contract's 1 s ones) keeps its
   * whole TTL: its margin would make it lost at once.
   *
   * <p>Watches outlive a broken connection as jetcd's do: the client resumes each from the revision after the
   * last one it delivered once connected again, so nothing is lost or repeated; events in flight when the
   * connection broke are dropped and replayed. A watch ends with {@code onError} only when that revision was
   * compacted meanwhile ({@link Reason#COMPACTED}) or the client closes ({@link Reason#CLOSED}), which keeps
   * {@code ElectionRecipe.observe}, whose re-list needs a Vert.x context, working through outages.
   */
  public final class Client implements MetaStore {

    private final String name;
    private final Link toServer = new Link();
    private final Link toClient = new Link();
    private final Reachability reachability = new Reachability(scheduler.clock());
    private final Election election = new ElectionRecipe(this);
    private final TreeMap<Long, ClientLease> leases = new TreeMap<>();
    private final List<ClientWatch> watches = new ArrayList<>();
    /** The current connection, null while there is none; a message sent on an older one is lost. */
    private Object connection;
    private boolean partitioned;
    private boolean crashed;
    private boolean closed;

    private Client(String name) {
      this.name = name;
    }

    // -------------------------------------------------------------------------------------------
    // faults

    /**
     * The connection breaks (a network partition, a reset connection): requests in flight and later ones fail
     * with {@link Reason#UNAVAILABLE} (one in flight may still have been applied), keep-alives fail, and
     * {@link #outage()} reports from the first failure on. Leases run out by the rule of this class.
     */
    public void disconnect() {
      partitioned = true;
      connectionLost();
    }

    /** The network heals: the client connects again (if the store is up) and resumes its watches. */
    public void reconnect() {
      partitioned = false;
      connectIfPossible();
    }

    /**
     * The process died: its timers stop (no more keep-alives), and nothing it asked for ever answers or calls
     * back, not even {@code onLost}; later calls are never answered either. Requests it already sent still
     * reach the server, as bytes on the wire outlive their sender. Its leases stay on the server until they
     * expire.
     */
    public void crash() {
      crashed = true;
      leases.values().forEach(ClientLease::stop);
    }

    private void connectionLost() {
      connection = null;
    }

    private void connectIfPossible() {
      if (connection == null && !partitioned && !down && !crashed && !closed) {
        connection = new Object();
        watches.removeIf(watch -> watch.over);
        watches.forEach(ClientWatch::open);
      }
    }

    // -------------------------------------------------------------------------------------------
    // MetaStore

    @Override
    public Future<Optional<KeyValue>> get(String key) {
      return request(() -> Optional.ofNullable(keyValues.get(key)).map(KeySpace::copy));
    }

    @Override
    public Future<RangeResult> getPrefix(String prefix) {
      return request(() -> new RangeResult(peekPrefix(prefix), revision));
    }

    @Override
    public Future<Long> put(String key, byte[] value, long leaseId) {
      byte[] owned = value.clone();
      return request(() -> SimulatedMetaStore.this.put(key, owned, leaseId));
    }

    @Override
    public Future<Boolean> delete(String key) {
      return request(() -> SimulatedMetaStore.this.delete(key));
    }

    @Override
    public Future<TxnResult> txn(Txn txn) {
      return request(() -> SimulatedMetaStore.this.txn(txn));
    }

    @Override
    public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
      ClientWatch watch = new ClientWatch(prefix, fromRevision, onEvent, onError);
      if (closed) {
        watch.failSoon(closedError(name));
      } else if (!crashed) {
        watches.add(watch);
        if (connection != null) {
          watch.open();
        }
      }
      return watch;
    }

    @Override
    public Future<Lease> grantLease(long ttlSeconds) {
      if (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
        return failSoon(new IllegalArgumentException(
            "lease TTL must be between 1 and " + MAX_TTL_SECONDS + " s: " + ttlSeconds));
      }
      long sentAt = scheduler.nowMillis();
      return request(() -> grant(ttlSeconds)).map(id -> {
        ClientLease lease = new ClientLease(id, ttlSeconds, sentAt);
        leases.put(id, lease);
        return lease;
      });
    }

    @Override
    public Election election() {
      return election;
    }

    /** Ends watches with {@link Reason#CLOSED} and keep-alives; leases stay until they expire. */
    @Override
    public Future<Void> close() {
      if (crashed) {
        return Promise.<Void>promise().future();
      }
      if (!closed) {
        closed = true;
        connection = null;
        leases.values().forEach(ClientLease::stop);
        watches.forEach(watch -> watch.failSoon(closedError(name)));
        watches.clear();
      }
      Promise<Void> done = Promise.promise();
      scheduler.schedule(0, () -> done.complete());
      return done.future();
    }

    @Override
    public Optional<Reachability.Outage> outage() {
      return reachability.outage();
    }

    // -------------------------------------------------------------------------------------------

    /**
     * Sends {@code operation} to the server, which runs it on arrival if this connection still stands, and
     * completes with its answer once that is back.
     */
    private <T> Future<T> request(Supplier<T> operation) {
      Promise<T> promise = Promise.promise();
      if (crashed) {
        return promise.future();
      }
      if (closed) {
        return failSoon(closedError(name));
      }
      Object sentOn = connection;
      toServer.send(() -> {
        Answer<T> answer = sentOn != null && sentOn == connection
            ? Answer.of(() -> {
              expireDueLeases();
              return operation.get();
            })
            : new Answer<>(null, unreachable("not connected"));
        toClient.send(() -> answered(promise, sentOn, answer));
      });
      return promise.future();
    }

    private <T> void answered(Promise<T> promise, Object sentOn, Answer<T> answer) {
      if (crashed) {
        return;
      }
      MetaStoreException error = closed ? closedError(name)
          : sentOn != connection ? unreachable("the connection broke; the request may have been applied")
          : answer.error();
      if (error == null) {
        reachability.reached();
        promise.complete(answer.value());
        return;
      }
      if (error.reason() == Reason.UNAVAILABLE) {
        reachability.failed(error);
      }
      promise.fail(error);
    }

    private MetaStoreException unreachable(String why) {
      return new MetaStoreException(Reason.UNAVAILABLE, "simulated metastore unreachable from " + name + ": " + why);
    }

    /** A failure decided by the client itself, still delivered by a task and never inline. */
    private <T> Future<T> failSoon(Throwable error) {
      Promise<T> promise = Promise.promise();
      scheduler.schedule(0, () -> promise.fail(error));
      return promise.future();
    }

    /** A watch as the client keeps it: what it has delivered, so that it can resume after a reconnect. */
    private final class ClientWatch implements Watch {
      private final String prefix;
      private final Handler<WatchEvent> onEvent;
      private final Handler<Throwable> onError;
      /** The first revision not yet delivered; 0 until the server has started a watch "from now". */
      private long next;
      private boolean over;

      ClientWatch(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
        this.prefix = prefix;
        this.next = fromRevision;
        this.onEvent = onEvent;
        this.onError = onError;
      }

      /** Asks the server to stream from {@link #next} over the current connection. */
      void open() {
        Object sentOn = connection;
        toServer.send(() -> {
          if (sentOn == connection && !over) {
            register(Client.this, sentOn, this);
          }
        });
      }

      List<WatchEvent> matching(List<WatchEvent> events) {
        return events.stream()
            .filter(event -> event.kv().key().startsWith(prefix))
            .map(event -> new WatchEvent(event.type(), KeySpace.copy(event.kv())))
            .toList();
      }

      void start(Object connection, long start, List<WatchEvent> replay) {
        if (next == 0 && connection == Client.this.connection) {
          next = start;
        }
        deliver(connection, replay);
      }

      /**
       * Events of a connection that has broken since are dropped: the resumed watch replays them. A message
       * holds whole revisions (one revision may have several events), so one already delivered is skipped whole.
       */
      void deliver(Object connection, List<WatchEvent> events) {
        if (crashed || connection != Client.this.connection) {
          return;
        }
        long from = next;
        for (WatchEvent event : events) {
          if (over) {
            return;
          }
          if (event.kv().modRevision() >= from) {
            next = event.kv().modRevision() + 1;
            onEvent.handle(event);
          }
        }
      }

      void failOn(Object connection, Throwable error) {
        if (!crashed && connection == Client.this.connection) {
          fail(error);
        }
      }

      void failSoon(Throwable error) {
        scheduler.schedule(0, () -> {
          if (!crashed) {
            fail(error);
          }
        });
      }

      private void fail(Throwable error) {
        if (!over) {
          over = true;
          onError.handle(error);
        }
      }

      @Override
      public void cancel() {
        over = true;
      }
    }

    /** A lease this client keeps alive by the rule of {@link Client}. */
    private final class ClientLease implements Lease {
      private enum State { ACTIVE, LOST, REVOKED }

      private final long id;
      private final long ttlSeconds;
      private final long ttlMillis;
      /** Every role of the node registers its own reaction to the loss; each runs once. */
      private final List<Handler<Void>> lostHandlers = new ArrayList<>();
      private final Cancellable keepAlive;
      private Cancellable lossCheck;
      private State state = State.ACTIVE;
      /** The lease's validity after the last acknowledged keep-alive (or the grant) was sent. */
      private long validUntil;
      private final long validForMillis;

      ClientLease(long id, long ttlSeconds, long grantSentAt) {
        this.id = id;
        this.ttlSeconds = ttlSeconds;
        this.ttlMillis = ttlSeconds * 1000;
        Duration ttl = Duration.ofSeconds(ttlSeconds);
        this.validForMillis = ttl.compareTo(Timings.MIN_SESSION_TTL) < 0 ? ttlMillis : new LeaseValidity(ttl, 0).validFor().toMillis();
        this.validUntil = grantSentAt + validForMillis;
        this.keepAlive = scheduler.periodic(ttlMillis / 3, this::keepAlive);
        armLossCheck();
      }

      private void keepAlive() {
        long sentAt = scheduler.nowMillis();
        request(() -> {
          SimulatedMetaStore.this.lease(id).renew();
          return null;
        }).onComplete(ar -> {
          if (state != State.ACTIVE) {
            return;
          }
          if (ar.succeeded()) {
            validUntil = Math.max(validUntil, sentAt + validForMillis);
          } else if (ar.cause() instanceof MetaStoreException e && e.reason() == Reason.LEASE_NOT_FOUND) {
            lost();
          }
        });
      }

      private void armLossCheck() {
        lossCheck = scheduler.schedule(validUntil - scheduler.nowMillis(), () -> {
          if (state != State.ACTIVE) {
            return;
          }
          if (scheduler.nowMillis() >= validUntil) {
            lost();
          } else {
            armLossCheck();
          }
        });
      }

      /** The handlers run in the task that notices, before anything else can happen at this instant. */
      private void lost() {
        state = State.LOST;
        stop();
        List.copyOf(lostHandlers).forEach(handler -> handler.handle(null));
      }

      void stop() {
        keepAlive.cancel();
        lossCheck.cancel();
      }

      @Override
      public long id() {
        return id;
      }

      @Override
      public long ttlSeconds() {
        return ttlSeconds;
      }

      /** A handler added after the loss runs in a task of its own, right away. */
      @Override
      public void onLost(Handler<Void> handler) {
        lostHandlers.add(handler);
        if (state == State.LOST) {
          scheduler.schedule(0, () -> {
            if (!crashed && !closed) {
              handler.handle(null);
            }
          });
        }
      }

      @Override
      public Future<Void> revoke() {
        if (state == State.ACTIVE) {
          state = State.REVOKED;
          stop();
        }
        return request(() -> {
          endLease(SimulatedMetaStore.this.lease(id));
          return null;
        });
      }
    }
  }
}
