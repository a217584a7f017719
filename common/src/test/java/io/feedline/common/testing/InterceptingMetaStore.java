package io.feedline.common.testing;

import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.common.metastore.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real store with a hook before every transaction, so a test can count round trips or make a
 * "concurrent writer" change a key exactly between a caller's read and its compare-and-set.
 */
public final class InterceptingMetaStore implements MetaStore {

  private final MetaStore delegate;
  private final AtomicInteger txns = new AtomicInteger();
  private volatile Function<Txn, Future<?>> beforeTxn = txn -> Future.succeededFuture();

  public InterceptingMetaStore(MetaStore delegate) {
    this.delegate = delegate;
  }

  /** Runs {@code hook} before each transaction (its future must complete before the transaction is sent). */
  public void beforeTxn(Function<Txn, Future<?>> hook) {
    this.beforeTxn = hook;
  }

  public int txnCount() {
    return txns.get();
  }

  public MetaStore delegate() {
    return delegate;
  }

  @Override
  public Future<TxnResult> txn(Txn txn) {
    txns.incrementAndGet();
    return beforeTxn.apply(txn).compose(v -> delegate.txn(txn));
  }

  @Override
  public Future<Optional<KeyValue>> get(String key) {
    return delegate.get(key);
  }

  @Override
  public Future<RangeResult> getPrefix(String prefix) {
    return delegate.getPrefix(prefix);
  }

  @Override
  public Future<Long> put(String key, byte[] value, long leaseId) {
    return delegate.put(key, value, leaseId);
  }

  @Override
  public Future<Boolean> delete(String key) {
    return delegate.delete(key);
  }

  @Override
  public Watch watchPrefix(String prefix, long fromRevision, Handler<WatchEvent> onEvent, Handler<Throwable> onError) {
    return delegate.watchPrefix(prefix, fromRevision, onEvent, onError);
  }

  @Override
  public Future<Lease> grantLease(long ttlSeconds) {
    return delegate.grantLease(ttlSeconds);
  }

  @Override
  public Election election() {
    return delegate.election();
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }
}
