package io.feedline.coordinator.control;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.changefeed.ChangefeedStoreException;
import io.feedline.coordinator.changefeed.ChangefeedStoreException.Reason;
import io.feedline.coordinator.changefeed.EpochBump;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The changefeed registry as {@link ChangefeedStore} keeps it, in memory and synchronous, for the
 * coordinator's tests: one revision counter, every write compared on the revisions it carries, answers
 * shaped as the store's (a written record keeps the caller's view of the key it did not write).
 */
final class InMemoryRegistry {

  private record Stored(ChangefeedInfo info, long infoRevision, ChangefeedStatus status, long statusRevision) {
    ChangefeedRecord record() {
      return new ChangefeedRecord(info, infoRevision, status, statusRevision);
    }
  }

  private final Map<ChangefeedId, Stored> records = new TreeMap<>();
  private long revision;

  /** A changefeed written by an earlier term (or another writer). */
  ChangefeedRecord create(ChangefeedInfo info, ChangefeedStatus status) {
    return ((RegistryResult.Written) perform(new RegistryOp.Create(info, status))).record();
  }

  List<ChangefeedRecord> loadAll() {
    return records.values().stream().map(Stored::record).toList();
  }

  Optional<ChangefeedRecord> load(ChangefeedId id) {
    return Optional.ofNullable(records.get(id)).map(Stored::record);
  }

  RegistryResult perform(RegistryOp op) {
    try {
      return apply(op);
    } catch (ChangefeedStoreException e) {
      return new RegistryResult.Failed(e);
    }
  }

  private RegistryResult apply(RegistryOp op) {
    if (op instanceof RegistryOp.Create c) {
      ChangefeedId id = ChangefeedId.of(c.info().getId());
      if (records.containsKey(id)) {
        throw new ChangefeedStoreException(Reason.ALREADY_EXISTS, "changefeed " + id + " already exists");
      }
      long rev = ++revision;
      records.put(id, new Stored(c.info(), rev, c.status(), rev));
      return new RegistryResult.Written(records.get(id).record());
    } else if (op instanceof RegistryOp.WriteInfo w) {
      return new RegistryResult.Written(write(w.current(), w.next(), null));
    } else if (op instanceof RegistryOp.WriteInfoAndStatus w) {
      return new RegistryResult.Written(write(w.current(), w.info(), w.status()));
    } else if (op instanceof RegistryOp.WriteStatus w) {
      return writeStatus(w.current(), w.next()).<RegistryResult>map(RegistryResult.Written::new)
          .orElseThrow(() -> conflict(w.current().id()));
    } else if (op instanceof RegistryOp.WriteStatuses w) {
      Map<ChangefeedId, ChangefeedRecord> written = new LinkedHashMap<>();
      w.writes().forEach(s -> writeStatus(s.current(), s.next()).ifPresent(r -> written.put(r.id(), r)));
      return new RegistryResult.WrittenMany(written);
    } else if (op instanceof RegistryOp.Bump b) {
      return new RegistryResult.Written(bump(b.bump()));
    } else if (op instanceof RegistryOp.BumpAll b) {
      List<ChangefeedStore.BumpResult> results = new ArrayList<>();
      for (EpochBump bump : b.bumps()) {
        try {
          results.add(new ChangefeedStore.BumpResult(bump.id(), bump(bump), null));
        } catch (ChangefeedStoreException e) {
          results.add(new ChangefeedStore.BumpResult(bump.id(), null, e));
        }
      }
      return new RegistryResult.Bumped(results);
    } else if (op instanceof RegistryOp.Delete d) {
      Stored s = records.get(d.current().id());
      if (s == null || s.infoRevision() != d.current().infoRevision()) {
        throw conflict(d.current().id());
      }
      records.remove(d.current().id());
      revision++;
      return new RegistryResult.Deleted();
    } else if (op instanceof RegistryOp.Load l) {
      return new RegistryResult.Loaded(load(l.id()));
    }
    throw new IllegalArgumentException("unknown op " + op);
  }

  private ChangefeedRecord write(ChangefeedRecord current, ChangefeedInfo info, ChangefeedStatus status) {
    Stored s = records.get(current.id());
    if (s == null || s.infoRevision() != current.infoRevision() || (status != null && s.statusRevision() != current.statusRevision())) {
      throw conflict(current.id());
    }
    long rev = ++revision;
    Stored next = status == null ? new Stored(info, rev, s.status(), s.statusRevision()) : new Stored(info, rev, status, rev);
    records.put(current.id(), next);
    return status == null ? new ChangefeedRecord(info, rev, current.status(), current.statusRevision()) : next.record();
  }

  private Optional<ChangefeedRecord> writeStatus(ChangefeedRecord current, ChangefeedStatus status) {
    Stored s = records.get(current.id());
    if (s == null || s.statusRevision() != current.statusRevision()) {
      return Optional.empty();
    }
    long rev = ++revision;
    records.put(current.id(), new Stored(s.info(), s.infoRevision(), status, rev));
    return Optional.of(new ChangefeedRecord(current.info(), current.infoRevision(), status, rev));
  }

  /** As the store: read, {@code max(candidate, persisted + 1)}, write. */
  private ChangefeedRecord bump(EpochBump bump) {
    Stored s = records.get(bump.id());
    if (s == null) {
      throw new ChangefeedStoreException(Reason.NOT_FOUND, "changefeed " + bump.id() + " does not exist");
    }
    ChangefeedInfo info;
    try {
      info = bump.apply(s.info());
    } catch (Epochs.EpochOverflowException e) {
      throw new ChangefeedStoreException(Reason.EPOCH_OVERFLOW, e.getMessage());
    }
    long rev = ++revision;
    Stored next = new Stored(info, rev, bump.status().orElse(s.status()), bump.writesStatus() ? rev : s.statusRevision());
    records.put(bump.id(), next);
    return next.record();
  }

  /** Another writer changes {@code id}'s status: the coordinator's next compare on it fails. */
  void touchStatus(ChangefeedId id) {
    Stored s = records.get(id);
    records.put(id, new Stored(s.info(), s.infoRevision(), s.status(), ++revision));
  }

  private static ChangefeedStoreException conflict(ChangefeedId id) {
    return new ChangefeedStoreException(Reason.CONFLICT, "changefeed " + id + " changed concurrently");
  }
}
