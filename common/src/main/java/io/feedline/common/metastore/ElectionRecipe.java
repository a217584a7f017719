package io.feedline.common.metastore;

import io.feedline.common.metastore.MetaStore.Election;
import io.feedline.common.metastore.MetaStore.Leader;
import io.feedline.common.metastore.MetaStore.Leadership;
import io.feedline.common.metastore.MetaStore.Lease;
import io.feedline.common.metastore.MetaStore.Watch;
import io.feedline.common.metastore.Txn.Compare;
import io.feedline.common.metastore.Txn.Op;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The etcd election recipe (clientv3 {@code concurrency.Election}) over the plain {@link MetaStore}
 * operations, shared by every store so both behave alike.
 *
 * <p>A campaigner puts {@code <name>/<lease id in hex>} bound to its lease; the key with the lowest create
 * revision under {@code <name>/} leads. Waiting campaigners follow the prefix with a watch and are
 * promoted as soon as every older key is gone: resigned, revoked or expired with its lease. The key
 * layout is etcd's own, so {@code etcdctl elect} and other etcd clients see the same election.
 *
 * <p>Built on a watch rather than etcd's server-side election API: a campaign there is one long unary
 * RPC that is lost, and leaves no trace of why, whenever the connection hiccups, while the watch replays
 * from a revision and fails explicitly.
 */
public final class ElectionRecipe implements Election {

  /** How soon an observer whose watch broke lists the candidates again. */
  static final long RESUME_DELAY_MS = 500;

  private final MetaStore store;

  public ElectionRecipe(MetaStore store) {
    this.store = store;
  }

  @Override
  public Future<Leadership> campaign(String name, Lease lease, byte[] proposal) {
    String prefix = prefix(name);
    String key = keyOf(name, lease);
    Txn enter = Txn.builder()
        .when(Compare.absent(key))
        .then(new Op.Put(key, proposal, lease.id()))
        .otherwise(Op.get(key))
        .build();
    return store.txn(enter)
        .compose(result -> result.succeeded()
            ? Future.succeededFuture(result.revision())
            : rejoin(key, proposal, lease, result.gets().get(0)))
        .compose(createRevision -> new Campaign(name, prefix, key, proposal, createRevision).start());
  }

  /**
   * Campaigning again with a lease that already has a key keeps that key's place in the queue (as etcd
   * does) and only updates the proposal.
   */
  private Future<Long> rejoin(String key, byte[] proposal, Lease lease, Optional<KeyValue> existing) {
    long createRevision = existing.orElseThrow().createRevision();
    Txn update = Txn.builder()
        .when(Compare.createRevision(key, createRevision))
        .then(new Op.Put(key, proposal, lease.id()))
        .build();
    return store.txn(update).compose(result -> result.succeeded()
        ? Future.succeededFuture(createRevision)
        : Future.failedFuture(keyGone(key)));
  }

  @Override
  public Future<Optional<Leader>> leader(String name) {
    return store.getPrefix(prefix(name)).map(range -> new Candidates(range.kvs()).leader(name));
  }

  @Override
  public Future<Void> withdraw(String name, Lease lease) {
    return store.delete(keyOf(name, lease)).mapEmpty();
  }

  @Override
  public Watch observe(String name, Handler<Leader> handler, Handler<Throwable> onError) {
    Observer observer = new Observer(name, handler, onError);
    observer.start();
    return observer;
  }

  private static String prefix(String name) {
    return name + "/";
  }

  private static String keyOf(String name, Lease lease) {
    return prefix(name) + Long.toHexString(lease.id());
  }

  private static MetaStoreException keyGone(String key) {
    return new MetaStoreException(MetaStoreException.Reason.LEASE_NOT_FOUND,
        "campaign key " + key + " was deleted before it led (withdrawn, or its lease revoked or expired)");
  }

  /** The live keys of one election, kept current from a snapshot plus the watch events after it. */
  private static final class Candidates {
    private final Map<String, KeyValue> byKey = new HashMap<>();

    Candidates(List<KeyValue> snapshot) {
      snapshot.forEach(kv -> byKey.put(kv.key(), kv));
    }

    void apply(WatchEvent event) {
      if (event.type() == WatchEvent.Type.PUT) {
        byKey.put(event.kv().key(), event.kv());
      } else {
        byKey.remove(event.kv().key());
      }
    }

    Optional<KeyValue> leaderKey() {
      return byKey.values().stream().min(Comparator.comparingLong(KeyValue::createRevision));
    }

    Optional<Leader> leader(String name) {
      return leaderKey().map(kv -> new Leader(name, kv.key(), kv.value(), kv.createRevision()));
    }

    Optional<KeyValue> get(String key) {
      return Optional.ofNullable(byKey.get(key));
    }
  }

  /**
   * Waits until the campaigner's key leads. Callbacks all run on the campaigner's context (the store
   * completes on the calling context), so the state needs no locking.
   */
  private final class Campaign {
    private final String name;
    private final String prefix;
    private final String key;
    private final byte[] proposal;
    private final long createRevision;
    private final Promise<Leadership> promise = Promise.promise();
    private Candidates candidates;
    private Watch watch;
    private boolean done;

    Campaign(String name, String prefix, String key, byte[] proposal, long createRevision) {
      this.name = name;
      this.prefix = prefix;
      this.key = key;
      this.proposal = proposal;
      this.createRevision = createRevision;
    }

    Future<Leadership> start() {
      store.getPrefix(prefix).onComplete(snapshot -> {
        if (snapshot.failed()) {
          fail(snapshot.cause());
          return;
        }
        candidates = new Candidates(snapshot.result().kvs());
        if (decide()) {
          return;
        }
        watch = store.watchPrefix(prefix, snapshot.result().revision() + 1, event -> {
          if (!done) {
            candidates.apply(event);
            decide();
          }
        }, this::fail);
      });
      return promise.future();
    }

    /** Returns whether the campaign is over. */
    private boolean decide() {
      Optional<KeyValue> mine = candidates.get(key).filter(kv -> kv.createRevision() == createRevision);
      if (mine.isEmpty()) {
        finish();
        promise.tryFail(keyGone(key));
        return true;
      }
      if (candidates.leaderKey().orElseThrow().createRevision() == createRevision) {
        finish();
        promise.tryComplete(new HeldLeadership(new Leader(name, key, proposal, createRevision)));
        return true;
      }
      return false;
    }

    /** A campaign that cannot wait any more withdraws its key, so it never leads with nobody knowing. */
    private void fail(Throwable cause) {
      if (done) {
        return;
      }
      finish();
      resign(key, createRevision).onComplete(ignored -> promise.tryFail(cause));
    }

    private void finish() {
      done = true;
      if (watch != null) {
        watch.cancel();
      }
    }
  }

  private Future<Void> resign(String key, long createRevision) {
    Txn withdraw = Txn.builder()
        .when(Compare.createRevision(key, createRevision))
        .then(Op.delete(key))
        .build();
    return store.txn(withdraw).mapEmpty();
  }

  private final class HeldLeadership implements Leadership {
    private final Leader leader;

    HeldLeadership(Leader leader) {
      this.leader = leader;
    }

    @Override
    public Leader leader() {
      return leader;
    }

    /** Deletes the leader key only if it is still this leadership's key (not a later campaign's). */
    @Override
    public Future<Void> resign() {
      return ElectionRecipe.this.resign(leader.key(), leader.revision());
    }
  }

  /**
   * Follows the leader: the current one first, then every change of leader key or proposal. A broken watch
   * (the store restarting, a connection reset) is not the end of the leadership it follows: the observer
   * lists the candidates again and watches from there, every {@link #RESUME_DELAY_MS} while the store does
   * not answer, and reports only a real change. Only a closed store ends it with {@code onError}.
   */
  private final class Observer implements Watch {
    private final String name;
    private final Handler<Leader> handler;
    private final Handler<Throwable> onError;
    private volatile boolean cancelled;
    private volatile Watch watch;
    private KeyValue lastLeader;

    Observer(String name, Handler<Leader> handler, Handler<Throwable> onError) {
      this.name = name;
      this.handler = handler;
      this.onError = onError;
    }

    void start() {
      String prefix = prefix(name);
      store.getPrefix(prefix).onComplete(snapshot -> {
        if (cancelled) {
          return;
        }
        if (snapshot.failed()) {
          broken(snapshot.cause());
          return;
        }
        Candidates candidates = new Candidates(snapshot.result().kvs());
        emitIfChanged(candidates);
        watch = store.watchPrefix(prefix, snapshot.result().revision() + 1, event -> {
          if (!cancelled) {
            candidates.apply(event);
            emitIfChanged(candidates);
          }
        }, this::broken);
        // cancel() may have run on another thread while the watch was being created
        if (cancelled) {
          watch.cancel();
        }
      });
    }

    /** Re-lists after a pause (a re-list also covers a compacted revision); a closed store ends the observer. */
    private void broken(Throwable error) {
      if (cancelled) {
        return;
      }
      if (error instanceof MetaStoreException e && e.reason() == MetaStoreException.Reason.CLOSED) {
        onError.handle(error);
        return;
      }
      Context context = Vertx.currentContext();
      if (context == null) {
        onError.handle(error);
        return;
      }
      context.owner().setTimer(RESUME_DELAY_MS, t -> {
        if (!cancelled) {
          start();
        }
      });
    }

    private void emitIfChanged(Candidates candidates) {
      Optional<KeyValue> current = candidates.leaderKey();
      if (current.isEmpty()) {
        return;
      }
      KeyValue kv = current.get();
      boolean changed = lastLeader == null
          || !lastLeader.key().equals(kv.key())
          || lastLeader.createRevision() != kv.createRevision()
          || lastLeader.modRevision() != kv.modRevision();
      if (changed) {
        lastLeader = kv;
        handler.handle(new Leader(name, kv.key(), kv.value(), kv.createRevision()));
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
      Watch current = watch;
      if (current != null) {
        current.cancel();
      }
    }
  }
}
