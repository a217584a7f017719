package io.feedline.dispatcher.endpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.proto.ChangefeedStatus;
import io.vertx.core.Future;
import java.util.OptionalLong;

/**
 * The checkpoints the cluster has persisted per changefeed, for an endpoint that keeps state upstream back
 * to them (a PostgreSQL source's replication slot holds exactly the WAL from the persisted checkpoint on:
 * every span of the changefeed resumes at or above it, whatever node it moves to).
 */
@FunctionalInterface
public interface PersistedCheckpoints {

  /** Where nothing is persisted (tests, benchmarks, checks): an endpoint keeps what it has. */
  PersistedCheckpoints NONE = changefeed -> Future.succeededFuture(OptionalLong.empty());

  /** The changefeed's persisted checkpoint; empty when it has none (yet). May complete on any thread. */
  Future<OptionalLong> of(String changefeed);

  /** Each changefeed's checkpoint as the coordinator last persisted it in the metastore. */
  static PersistedCheckpoints inStore(MetaStore store, MetaKeys keys) {
    return changefeed -> store.get(keys.changefeedStatus(ChangefeedId.of(changefeed))).map(kv -> {
      if (kv.isEmpty()) {
        return OptionalLong.empty();
      }
      try {
        return OptionalLong.of(ChangefeedStatus.parseFrom(kv.get().value()).getCheckpointTs());
      } catch (InvalidProtocolBufferException e) {
        return OptionalLong.empty(); // the coordinator reports a corrupt record; nothing to follow meanwhile
      }
    });
  }
}
