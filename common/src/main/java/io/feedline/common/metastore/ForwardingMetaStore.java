package io.feedline.common.metastore;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.Optional;

/**
 * A store that hands every call to another one; subclasses override what they change (a hook before
 * transactions, a close that must not close a shared store, ...).
 */
public abstract class ForwardingMetaStore implements MetaStore {

  private final MetaStore delegate;

  protected ForwardingMetaStore(MetaStore delegate) {
    this.delegate = delegate;
  }

  public MetaStore delegate() {
    return delegate;
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
  public Future<TxnResult> txn(Txn txn) {
    return delegate.txn(txn);
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

  @Override
  public java.util.Optional<Reachability.Outage> outage() {
    return delegate.outage();
  }
}
