package io.feedline.coordinator.changefeed;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.Txn;
import io.feedline.common.metastore.TxnResult;
import io.feedline.coordinator.changefeed.ChangefeedStoreException.Reason;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The changefeed registry in the metastore: {@code …/changefeed/info/<id>} and {@code …/changefeed/status/<id>}.
 * Every write compares the mod revisions it read, so concurrent writers never overwrite each other blindly.
 *
 * <p>Epoch bumps ({@link #bump}, {@link #bumpAll}) re-read after a conflict from the transaction's own
 * failure branch, so a retry costs one round trip, and {@link #bumpAll} packs many changefeeds into each
 * transaction: a mass failover of 1,000 maintainers costs a few dozen round trips, not thousands.
 */
public final class ChangefeedStore {

  /**
   * etcd's default --max-txn-ops: the most compares, and the most operations of either branch, one transaction
   * may have. One of each is kept for the leadership fence a coordinator's store adds to every transaction.
   */
  static final int MAX_TXN_OPS = 128;
  /** Two keys per changefeed, beside the leadership fence. */
  static final int CHANGEFEEDS_PER_TXN = (MAX_TXN_OPS - 1) / 2;
  /** One status key per changefeed, beside the leadership fence. */
  static final int STATUSES_PER_TXN = MAX_TXN_OPS - 1;
  static final int MAX_ATTEMPTS = 8;

  private final MetaStore store;
  private final MetaKeys keys;

  public ChangefeedStore(MetaStore store, MetaKeys keys) {
    this.store = store;
    this.keys = keys;
  }

  /** The outcome of one changefeed's bump in a batch: the persisted record, or why it failed. */
  public record BumpResult(ChangefeedId id, ChangefeedRecord record, ChangefeedStoreException error) {
    public boolean succeeded() {
      return error == null;
    }
  }

  /** Performs {@code op}; a failure is answered as {@link RegistryResult.Failed}, never as a failed future. */
  public Future<RegistryResult> perform(RegistryOp op) {
    Future<RegistryResult> done;
    try {
      done = start(op);
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    return done.otherwise(RegistryResult.Failed::new);
  }

  private Future<RegistryResult> start(RegistryOp op) {
    if (op instanceof RegistryOp.Create c) {
      return create(c.info(), c.status()).map(RegistryResult.Written::new);
    } else if (op instanceof RegistryOp.WriteInfo w) {
      return writeInfo(w.current(), w.next()).map(RegistryResult.Written::new);
    } else if (op instanceof RegistryOp.WriteStatus w) {
      return writeStatus(w.current(), w.next()).map(RegistryResult.Written::new);
    } else if (op instanceof RegistryOp.WriteInfoAndStatus w) {
      return writeInfoAndStatus(w.current(), w.info(), w.status()).map(RegistryResult.Written::new);
    } else if (op instanceof RegistryOp.WriteStatuses w) {
      return writeStatuses(w.writes()).map(RegistryResult.WrittenMany::new);
    } else if (op instanceof RegistryOp.Bump b) {
      return bump(b.bump()).map(RegistryResult.Written::new);
    } else if (op instanceof RegistryOp.BumpAll b) {
      return bumpAll(b.bumps()).map(RegistryResult.Bumped::new);
    } else if (op instanceof RegistryOp.Delete d) {
      return delete(d.current()).map(v -> new RegistryResult.Deleted());
    } else if (op instanceof RegistryOp.Load l) {
      return load(l.id()).map(RegistryResult.Loaded::new);
    }
    throw new IllegalArgumentException("unknown registry op " + op);
  }

  public Future<List<ChangefeedRecord>> loadAll() {
    return store.getPrefix(keys.changefeedInfos()).compose(infos -> store.getPrefix(keys.changefeedStatuses()).map(statuses -> {
      Map<String, KeyValue> statusById = new HashMap<>();
      for (KeyValue kv : statuses.kvs()) {
        statusById.put(kv.key().substring(keys.changefeedStatuses().length()), kv);
      }
      List<ChangefeedRecord> records = new ArrayList<>();
      for (KeyValue info : infos.kvs()) {
        String id = info.key().substring(keys.changefeedInfos().length());
        records.add(record(info, Optional.ofNullable(statusById.get(id))));
      }
      return records;
    }));
  }

  public Future<Optional<ChangefeedRecord>> load(ChangefeedId id) {
    return read(List.of(id)).map(m -> Optional.ofNullable(m.get(id)));
  }

  /** Creates both records in one transaction guarded by both keys being absent. */
  public Future<ChangefeedRecord> create(ChangefeedInfo info, ChangefeedStatus status) {
    ChangefeedId id = ChangefeedId.of(info.getId());
    Txn txn = Txn.builder()
        .when(Txn.Compare.absent(keys.changefeedInfo(id)))
        .when(Txn.Compare.absent(keys.changefeedStatus(id)))
        .then(Txn.Op.put(keys.changefeedInfo(id), info.toByteArray()))
        .then(Txn.Op.put(keys.changefeedStatus(id), status.toByteArray()))
        .build();
    return store.txn(txn).compose(r -> r.succeeded()
        ? Future.succeededFuture(new ChangefeedRecord(info, r.revision(), status, r.revision()))
        : Future.failedFuture(new ChangefeedStoreException(Reason.ALREADY_EXISTS, "changefeed " + id + " already exists")));
  }

  /** Replaces the info record if it is still at {@code current.infoRevision()}; otherwise CONFLICT. */
  public Future<ChangefeedRecord> writeInfo(ChangefeedRecord current, ChangefeedInfo next) {
    return write(current, next, null);
  }

  /**
   * Replaces the info and the status in one transaction (a state change and its progress, e.g. pause =
   * stopped + stopping), each compared on the revision read; otherwise CONFLICT and nothing is written.
   */
  public Future<ChangefeedRecord> writeInfoAndStatus(ChangefeedRecord current, ChangefeedInfo info, ChangefeedStatus status) {
    return write(current, info, status);
  }

  private Future<ChangefeedRecord> write(ChangefeedRecord current, ChangefeedInfo info, ChangefeedStatus status) {
    ChangefeedId id = current.id();
    Txn.Builder txn = Txn.builder()
        .when(Txn.Compare.modRevision(keys.changefeedInfo(id), current.infoRevision()))
        .then(Txn.Op.put(keys.changefeedInfo(id), info.toByteArray()));
    if (status != null) {
      txn.when(Txn.Compare.modRevision(keys.changefeedStatus(id), current.statusRevision()))
          .then(Txn.Op.put(keys.changefeedStatus(id), status.toByteArray()));
    }
    return store.txn(txn.build()).compose(r -> r.succeeded()
        ? Future.succeededFuture(status == null
            ? new ChangefeedRecord(info, r.revision(), current.status(), current.statusRevision())
            : new ChangefeedRecord(info, r.revision(), status, r.revision()))
        : Future.failedFuture(conflict(id)));
  }

  /** Replaces the status record if it is still at {@code current.statusRevision()}; otherwise CONFLICT. */
  public Future<ChangefeedRecord> writeStatus(ChangefeedRecord current, ChangefeedStatus next) {
    return writeStatuses(List.of(new StatusWrite(current, next))).compose(results -> {
      ChangefeedRecord written = results.get(current.id());
      return written != null ? Future.succeededFuture(written) : Future.failedFuture(conflict(current.id()));
    });
  }

  /** A status to write over {@code current}, compared on its status revision. */
  public record StatusWrite(ChangefeedRecord current, ChangefeedStatus next) {}

  /**
   * Writes many statuses (checkpoints) in few transactions. Returns the records written; a changefeed
   * whose status changed meanwhile is left out (its writer re-reads it), and does not hold back the others.
   */
  public Future<Map<ChangefeedId, ChangefeedRecord>> writeStatuses(List<StatusWrite> writes) {
    Map<ChangefeedId, ChangefeedRecord> written = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (List<StatusWrite> chunk : chunks(writes, STATUSES_PER_TXN)) {
      chain = chain.compose(v -> writeStatusChunk(chunk, written));
    }
    return chain.map(written);
  }

  private Future<Void> writeStatusChunk(List<StatusWrite> chunk, Map<ChangefeedId, ChangefeedRecord> written) {
    Txn.Builder txn = Txn.builder();
    for (StatusWrite w : chunk) {
      txn.when(Txn.Compare.modRevision(keys.changefeedStatus(w.current().id()), w.current().statusRevision()));
      txn.then(Txn.Op.put(keys.changefeedStatus(w.current().id()), w.next().toByteArray()));
    }
    return store.txn(txn.build()).compose(r -> {
      if (r.succeeded()) {
        for (StatusWrite w : chunk) {
          ChangefeedRecord c = w.current();
          written.put(c.id(), new ChangefeedRecord(c.info(), c.infoRevision(), w.next(), r.revision()));
        }
        return Future.succeededFuture();
      }
      if (chunk.size() == 1) {
        return Future.succeededFuture();
      }
      // Someone else wrote one of them: retry each alone so only the conflicting one is left out.
      Future<Void> each = Future.succeededFuture();
      for (StatusWrite w : chunk) {
        each = each.compose(v -> writeStatusChunk(List.of(w), written));
      }
      return each;
    });
  }

  /** Deletes both records if the info is still at the revision read. */
  public Future<Void> delete(ChangefeedRecord current) {
    ChangefeedId id = current.id();
    Txn txn = Txn.builder()
        .when(Txn.Compare.modRevision(keys.changefeedInfo(id), current.infoRevision()))
        .then(Txn.Op.delete(keys.changefeedInfo(id)))
        .then(Txn.Op.delete(keys.changefeedStatus(id)))
        .build();
    return store.txn(txn).compose(r -> r.succeeded() ? Future.<Void>succeededFuture() : Future.failedFuture(conflict(id)));
  }

  /** Persists one epoch bump: read, {@code max(candidate, persisted + 1)}, CAS write, bounded retry on conflict. */
  public Future<ChangefeedRecord> bump(EpochBump bump) {
    return read(List.of(bump.id())).compose(current -> attempt(bump, current.get(bump.id()), 1));
  }

  private Future<ChangefeedRecord> attempt(EpochBump bump, ChangefeedRecord current, int attempt) {
    if (current == null) {
      return Future.failedFuture(notFound(bump.id()));
    }
    ChangefeedRecord next;
    try {
      next = planned(bump, current);
    } catch (Epochs.EpochOverflowException e) {
      return Future.failedFuture(new ChangefeedStoreException(Reason.EPOCH_OVERFLOW, e.getMessage()));
    }
    return store.txn(bumpTxn(List.of(bump), Map.of(bump.id(), current), Map.of(bump.id(), next))).compose(r -> {
      if (r.succeeded()) {
        return Future.succeededFuture(withRevision(next, bump, r.revision()));
      }
      if (attempt >= MAX_ATTEMPTS) {
        return Future.failedFuture(new ChangefeedStoreException(Reason.CONFLICT,
            "changefeed " + bump.id() + ": epoch bump conflicted " + attempt + " times in a row"));
      }
      return attempt(bump, fromFailureGets(r, List.of(bump.id())).get(bump.id()), attempt + 1);
    });
  }

  /**
   * Persists many bumps with few transactions: {@value #CHANGEFEEDS_PER_TXN} changefeeds per transaction,
   * each still compared on its own revisions. When a transaction fails, its failure branch returns the
   * current records: changefeeds that changed are retried alone, the rest retried together.
   */
  public Future<List<BumpResult>> bumpAll(List<EpochBump> bumps) {
    Map<ChangefeedId, BumpResult> results = new LinkedHashMap<>();
    Map<ChangefeedId, EpochBump> byId = new LinkedHashMap<>();
    bumps.forEach(b -> byId.put(b.id(), b));
    Future<Map<ChangefeedId, ChangefeedRecord>> reads = Future.succeededFuture(new HashMap<>());
    for (List<ChangefeedId> chunk : chunks(List.copyOf(byId.keySet()), CHANGEFEEDS_PER_TXN)) {
      reads = reads.compose(acc -> read(chunk).map(m -> {
        acc.putAll(m);
        return acc;
      }));
    }
    return reads.compose(current -> {
      List<EpochBump> batch = new ArrayList<>();
      for (EpochBump b : byId.values()) {
        if (current.containsKey(b.id())) {
          batch.add(b);
        } else {
          results.put(b.id(), new BumpResult(b.id(), null, notFound(b.id())));
        }
      }
      return batchRound(batch, current, results, 1);
    }).map(v -> bumps.stream().map(b -> results.get(b.id())).toList());
  }

  private Future<Void> batchRound(List<EpochBump> batch, Map<ChangefeedId, ChangefeedRecord> current,
      Map<ChangefeedId, BumpResult> results, int round) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    List<EpochBump> retryTogether = new ArrayList<>();
    List<EpochBump> retryAlone = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (List<EpochBump> chunk : chunks(batch, CHANGEFEEDS_PER_TXN)) {
      chain = chain.compose(v -> writeChunk(chunk, current, results, retryTogether, retryAlone));
    }
    return chain.compose(v -> {
      Future<Void> alone = Future.succeededFuture();
      for (EpochBump b : retryAlone) {
        alone = alone.compose(x -> attempt(b, current.get(b.id()), 2).transform(ar -> {
          results.put(b.id(), ar.succeeded() ? new BumpResult(b.id(), ar.result(), null) : failed(b.id(), ar.cause()));
          return Future.<Void>succeededFuture();
        }));
      }
      return alone;
    }).compose(v -> {
      if (round >= MAX_ATTEMPTS) {
        retryTogether.forEach(b -> results.put(b.id(), new BumpResult(b.id(), null,
            new ChangefeedStoreException(Reason.CONFLICT, "changefeed " + b.id() + ": batched bump kept failing"))));
        return Future.succeededFuture();
      }
      return batchRound(retryTogether, current, results, round + 1);
    });
  }

  private Future<Void> writeChunk(List<EpochBump> chunk, Map<ChangefeedId, ChangefeedRecord> current,
      Map<ChangefeedId, BumpResult> results, List<EpochBump> retryTogether, List<EpochBump> retryAlone) {
    Map<ChangefeedId, ChangefeedRecord> planned = new HashMap<>();
    List<EpochBump> writable = new ArrayList<>();
    for (EpochBump b : chunk) {
      try {
        planned.put(b.id(), planned(b, current.get(b.id())));
        writable.add(b);
      } catch (Epochs.EpochOverflowException e) {
        results.put(b.id(), new BumpResult(b.id(), null, new ChangefeedStoreException(Reason.EPOCH_OVERFLOW, e.getMessage())));
      }
    }
    if (writable.isEmpty()) {
      return Future.succeededFuture();
    }
    return store.txn(bumpTxn(writable, current, planned)).map(r -> {
      if (r.succeeded()) {
        for (EpochBump b : writable) {
          ChangefeedRecord done = withRevision(planned.get(b.id()), b, r.revision());
          current.put(b.id(), done);
          results.put(b.id(), new BumpResult(b.id(), done, null));
        }
        return null;
      }
      Map<ChangefeedId, ChangefeedRecord> fresh = fromFailureGets(r, writable.stream().map(EpochBump::id).toList());
      for (EpochBump b : writable) {
        ChangefeedRecord now = fresh.get(b.id());
        ChangefeedRecord was = current.get(b.id());
        if (now == null) {
          results.put(b.id(), new BumpResult(b.id(), null, notFound(b.id())));
        } else if (now.infoRevision() == was.infoRevision() && now.statusRevision() == was.statusRevision()) {
          retryTogether.add(b); // failed only because another changefeed of the chunk changed
        } else {
          current.put(b.id(), now);
          retryAlone.add(b);
        }
      }
      return null;
    });
  }

  private ChangefeedRecord planned(EpochBump bump, ChangefeedRecord current) {
    ChangefeedInfo info = bump.apply(current.info());
    ChangefeedStatus status = bump.status().orElse(current.status());
    return new ChangefeedRecord(info, current.infoRevision(), status, current.statusRevision());
  }

  private static ChangefeedRecord withRevision(ChangefeedRecord planned, EpochBump bump, long revision) {
    return new ChangefeedRecord(planned.info(), revision, planned.status(), bump.writesStatus() ? revision : planned.statusRevision());
  }

  /** Compares the revisions read; puts the planned records; on failure reads everything back. */
  private Txn bumpTxn(List<EpochBump> bumps, Map<ChangefeedId, ChangefeedRecord> current, Map<ChangefeedId, ChangefeedRecord> planned) {
    Txn.Builder txn = Txn.builder();
    for (EpochBump b : bumps) {
      ChangefeedRecord c = current.get(b.id());
      txn.when(Txn.Compare.modRevision(keys.changefeedInfo(b.id()), c.infoRevision()));
      txn.then(Txn.Op.put(keys.changefeedInfo(b.id()), planned.get(b.id()).info().toByteArray()));
      if (b.writesStatus()) {
        txn.when(Txn.Compare.modRevision(keys.changefeedStatus(b.id()), c.statusRevision()));
        txn.then(Txn.Op.put(keys.changefeedStatus(b.id()), planned.get(b.id()).status().toByteArray()));
      }
      txn.otherwise(Txn.Op.get(keys.changefeedInfo(b.id())));
      txn.otherwise(Txn.Op.get(keys.changefeedStatus(b.id())));
    }
    return txn.build();
  }

  /** Reads info and status of each id in one transaction. Absent changefeeds are left out. */
  private Future<Map<ChangefeedId, ChangefeedRecord>> read(List<ChangefeedId> ids) {
    Txn.Builder txn = Txn.builder();
    for (ChangefeedId id : ids) {
      txn.then(Txn.Op.get(keys.changefeedInfo(id)));
      txn.then(Txn.Op.get(keys.changefeedStatus(id)));
    }
    return store.txn(txn.build()).map(r -> pairs(r, ids));
  }

  private Map<ChangefeedId, ChangefeedRecord> fromFailureGets(TxnResult r, List<ChangefeedId> ids) {
    return pairs(r, ids);
  }

  private Map<ChangefeedId, ChangefeedRecord> pairs(TxnResult r, List<ChangefeedId> ids) {
    Map<ChangefeedId, ChangefeedRecord> out = new HashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      Optional<KeyValue> info = r.gets().get(2 * i);
      if (info.isPresent()) {
        out.put(ids.get(i), record(info.get(), r.gets().get(2 * i + 1)));
      }
    }
    return out;
  }

  private static ChangefeedRecord record(KeyValue info, Optional<KeyValue> status) {
    try {
      ChangefeedInfo parsedInfo = ChangefeedInfo.parseFrom(info.value());
      ChangefeedStatus parsedStatus = status.isPresent() ? ChangefeedStatus.parseFrom(status.get().value()) : ChangefeedStatus.getDefaultInstance();
      return new ChangefeedRecord(parsedInfo, info.modRevision(), parsedStatus, status.map(KeyValue::modRevision).orElse(0L));
    } catch (InvalidProtocolBufferException e) {
      throw new ChangefeedStoreException(Reason.CORRUPT, "changefeed record at " + info.key() + " does not parse: " + e.getMessage());
    }
  }

  private static <T> List<List<T>> chunks(List<T> items, int size) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i += size) {
      out.add(items.subList(i, Math.min(items.size(), i + size)));
    }
    return out;
  }

  private static ChangefeedStoreException notFound(ChangefeedId id) {
    return new ChangefeedStoreException(Reason.NOT_FOUND, "changefeed " + id + " does not exist");
  }

  private static ChangefeedStoreException conflict(ChangefeedId id) {
    return new ChangefeedStoreException(Reason.CONFLICT, "changefeed " + id + " was changed concurrently");
  }

  private static BumpResult failed(ChangefeedId id, Throwable cause) {
    return new BumpResult(id, null, cause instanceof ChangefeedStoreException e ? e
        : new ChangefeedStoreException(Reason.CONFLICT, "changefeed " + id + ": " + cause));
  }
}
