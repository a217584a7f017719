package io.feedline.coordinator.changefeed;

import io.feedline.common.id.ChangefeedId;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import java.util.List;

/**
 * One call on the changefeed registry, as data: what the coordinator decided to write (or read), for its
 * runtime to perform on a {@link ChangefeedStore} and answer with a {@link RegistryResult}. Writes compare the
 * revisions of the record they carry, so a decision made on stale memory fails instead of overwriting.
 */
public sealed interface RegistryOp {

  /** Both records, guarded by both keys being absent. Answers {@link RegistryResult.Written}. */
  record Create(ChangefeedInfo info, ChangefeedStatus status) implements RegistryOp {}

  /** The info record over {@code current}'s info revision. Answers {@link RegistryResult.Written}. */
  record WriteInfo(ChangefeedRecord current, ChangefeedInfo next) implements RegistryOp {}

  /** The status record over {@code current}'s status revision. Answers {@link RegistryResult.Written}. */
  record WriteStatus(ChangefeedRecord current, ChangefeedStatus next) implements RegistryOp {}

  /** Both records over both revisions, in one transaction. Answers {@link RegistryResult.Written}. */
  record WriteInfoAndStatus(ChangefeedRecord current, ChangefeedInfo info, ChangefeedStatus status) implements RegistryOp {}

  /** Many statuses (checkpoints) in few transactions. Answers {@link RegistryResult.WrittenMany}. */
  record WriteStatuses(List<ChangefeedStore.StatusWrite> writes) implements RegistryOp {}

  /** One epoch bump. Answers {@link RegistryResult.Written}. */
  record Bump(EpochBump bump) implements RegistryOp {}

  /** Many epoch bumps in few transactions, each compared on its own. Answers {@link RegistryResult.Bumped}. */
  record BumpAll(List<EpochBump> bumps) implements RegistryOp {}

  /** Both records, if the info is still at {@code current}'s revision. Answers {@link RegistryResult.Deleted}. */
  record Delete(ChangefeedRecord current) implements RegistryOp {}

  /** Reads one changefeed back (after a lost compare-and-set). Answers {@link RegistryResult.Loaded}. */
  record Load(ChangefeedId id) implements RegistryOp {}
}
