package io.feedline.coordinator.changefeed;

import io.feedline.common.id.ChangefeedId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What a {@link RegistryOp} came to: the records persisted or read, or why it failed. */
public sealed interface RegistryResult {

  record Written(ChangefeedRecord record) implements RegistryResult {}

  /** The statuses written; a changefeed whose status changed meanwhile is left out. */
  record WrittenMany(Map<ChangefeedId, ChangefeedRecord> records) implements RegistryResult {}

  record Bumped(List<ChangefeedStore.BumpResult> results) implements RegistryResult {}

  record Deleted() implements RegistryResult {}

  record Loaded(Optional<ChangefeedRecord> record) implements RegistryResult {}

  /** The call failed: a {@link ChangefeedStoreException} (conflict, not found…), or the store could not be reached. */
  record Failed(Throwable error) implements RegistryResult {

    public boolean conflict() {
      return error instanceof ChangefeedStoreException e && e.reason() == ChangefeedStoreException.Reason.CONFLICT;
    }
  }
}
