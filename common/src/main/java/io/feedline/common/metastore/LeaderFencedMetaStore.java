package io.feedline.common.metastore;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A store whose every write holds only while a leadership does, as KRaft refuses every controller write
 * without the current claim epoch: each transaction also compares the leader key's create revision (the key
 * exists, with that revision, exactly as long as this campaign leads: a new leader's key is a new key, and
 * the old one is gone before it can lead). A write of a deposed leader, one that has not noticed yet
 * (paused, partitioned), fails with {@link MetaStoreException.Reason#NOT_LEADER} and changes nothing; the
 * {@code onRefused} callback hears of it once per refusal, to count it and step down. Reads pass through.
 */
public final class LeaderFencedMetaStore extends ForwardingMetaStore {

  private final MetaStore.Leader leader;
  private final Runnable onRefused;

  /**
   * @param leader the leadership every write is fenced by
   * @param onRefused called (on the store's callback thread) when a write is refused because it no longer leads
   */
  public LeaderFencedMetaStore(MetaStore delegate, MetaStore.Leader leader, Runnable onRefused) {
    super(delegate);
    this.leader = leader;
    this.onRefused = onRefused;
  }

  public MetaStore.Leader leader() {
    return leader;
  }

  /**
   * The transaction with the leadership compare added, and a read of the leader key appended to the failure
   * branch (after the caller's own reads, whose positions stay as they were), so a failure tells a lost
   * leadership from the caller's own compares in the same round trip.
   */
  @Override
  public Future<TxnResult> txn(Txn txn) {
    List<Txn.Compare> compares = new ArrayList<>(txn.compares());
    compares.add(Txn.Compare.createRevision(leader.key(), leader.revision()));
    List<Txn.Op> failure = new ArrayList<>(txn.failure());
    failure.add(Txn.Op.get(leader.key()));
    return delegate().txn(new Txn(compares, txn.success(), failure)).compose(result -> {
      if (result.succeeded()) {
        return Future.succeededFuture(result);
      }
      List<Optional<KeyValue>> gets = result.gets();
      Optional<KeyValue> claim = gets.get(gets.size() - 1);
      if (claim.isEmpty() || claim.get().createRevision() != leader.revision()) {
        onRefused.run();
        return Future.failedFuture(new MetaStoreException(MetaStoreException.Reason.NOT_LEADER, "write refused: " + leader.key()
            + " (revision " + leader.revision() + ") no longer leads " + leader.name()));
      }
      return Future.succeededFuture(new TxnResult(false, result.revision(), List.copyOf(gets.subList(0, gets.size() - 1))));
    });
  }

  /** A plain put, fenced like a transaction. */
  @Override
  public Future<Long> put(String key, byte[] value, long leaseId) {
    return txn(Txn.builder().then(new Txn.Op.Put(key, value, leaseId)).build()).map(TxnResult::revision);
  }

  /** A plain delete, fenced like a transaction. */
  @Override
  public Future<Boolean> delete(String key) {
    return txn(Txn.builder().then(Txn.Op.get(key)).then(Txn.Op.delete(key)).build()).map(r -> r.gets().get(0).isPresent());
  }
}
