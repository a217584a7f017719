package io.feedline.node.simulation;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.fence.Epochs;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches every write to the changefeed registry and checks two invariants of DESIGN §9 on each one, so a
 * regression is caught even if a later write hides it: persisted epochs never go down (and a bump is
 * strictly greater), checkpoints never regress. A watch broken by a metastore restart resumes from the
 * next revision, so no write is missed.
 */
final class MetaHistory {

  static final String EPOCHS_INCREASE = "persisted-epochs-increase";
  static final String CHECKPOINTS_MONOTONIC = "checkpoints-monotonic";

  private final Vertx vertx;
  private final MetaStore store;
  private final MetaKeys keys;
  private final Map<String, Long> epochs = new HashMap<>();
  private final Map<String, Long> checkpoints = new HashMap<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private long nextRevision;
  private volatile boolean stopped;
  private MetaStore.Watch watch;

  MetaHistory(Vertx vertx, MetaStore store, MetaKeys keys) {
    this.vertx = vertx;
    this.store = store;
    this.keys = keys;
  }

  /** Starts watching from the beginning of the registry's history (revision 1). */
  void start() {
    nextRevision = 1;
    watchFromNext();
  }

  List<String> violations() {
    return List.copyOf(violations);
  }

  void stop() {
    stopped = true;
    if (watch != null) {
      watch.cancel();
    }
  }

  private void watchFromNext() {
    if (stopped) {
      return;
    }
    watch = store.watchPrefix(keys.root(), nextRevision, this::onEvent, err -> vertx.setTimer(200, t -> watchFromNext()));
  }

  private synchronized void onEvent(WatchEvent event) {
    nextRevision = Math.max(nextRevision, event.kv().modRevision() + 1);
    String key = event.kv().key();
    if (key.startsWith(keys.changefeedInfos())) {
      String id = key.substring(keys.changefeedInfos().length());
      if (event.type() == WatchEvent.Type.PUT) {
        long epoch = parse(() -> ChangefeedInfo.parseFrom(event.kv().value()).getEpoch(), key);
        Long previous = epochs.put(id, epoch);
        // A changefeed removed and created again under the same id still gets a newer epoch (from the TSO).
        if (previous != null && Epochs.compare(epoch, previous) < 0) {
          violations.add(EPOCHS_INCREASE + ": " + id + " epoch " + Epochs.format(previous) + " -> " + Epochs.format(epoch)
              + " at revision " + event.kv().modRevision());
        }
      }
    } else if (key.startsWith(keys.changefeedStatuses())) {
      String id = key.substring(keys.changefeedStatuses().length());
      if (event.type() == WatchEvent.Type.DELETE) {
        checkpoints.remove(id);
      } else {
        long checkpoint = parse(() -> ChangefeedStatus.parseFrom(event.kv().value()).getCheckpointTs(), key);
        Long previous = checkpoints.put(id, checkpoint);
        if (previous != null && Long.compareUnsigned(checkpoint, previous) < 0) {
          violations.add(CHECKPOINTS_MONOTONIC + ": " + id + " checkpoint " + Long.toUnsignedString(previous) + " -> "
              + Long.toUnsignedString(checkpoint) + " at revision " + event.kv().modRevision());
        }
      }
    }
  }

  private long parse(ProtoField field, String key) {
    try {
      return field.get();
    } catch (InvalidProtocolBufferException e) {
      violations.add("registry-readable: " + key + " holds no valid record: " + e.getMessage());
      return 0;
    }
  }

  @FunctionalInterface
  private interface ProtoField {
    long get() throws InvalidProtocolBufferException;
  }
}
