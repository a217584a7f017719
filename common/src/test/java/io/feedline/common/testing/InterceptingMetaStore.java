package io.feedline.common.testing;

import io.feedline.common.metastore.ForwardingMetaStore;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real store with a hook before every transaction, so a test can count round trips or make a
 * "concurrent writer" change a key exactly between a caller's read and its compare-and-set.
 */
public final class InterceptingMetaStore extends ForwardingMetaStore {

  private final AtomicInteger txns = new AtomicInteger();
  private volatile Function<Txn, Future<?>> beforeTxn = txn -> Future.succeededFuture();

  public InterceptingMetaStore(MetaStore delegate) {
    super(delegate);
  }

  /** Runs {@code hook} before each transaction (its future must complete before the transaction is sent). */
  public void beforeTxn(Function<Txn, Future<?>> hook) {
    this.beforeTxn = hook;
  }

  public int txnCount() {
    return txns.get();
  }

  @Override
  public Future<TxnResult> txn(Txn txn) {
    txns.incrementAndGet();
    return beforeTxn.apply(txn).compose(v -> super.txn(txn));
  }
}
