package io.feedline.coordinator.control;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.CoordinatorException.Reason;
import io.feedline.coordinator.changefeed.ChangefeedStoreException;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import io.feedline.coordinator.operator.MaintainerOperator;
import io.feedline.coordinator.operator.StopChangefeed;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedProgress;
import io.feedline.proto.ChangefeedState;
import io.feedline.proto.ChangefeedStatus;
import io.feedline.proto.RunningError;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A changefeed's life as users drive it and as its maintainer reports it: create, pause, resume, update and
 * remove (each answered once persisted), warnings with backoff and failure after {@code failedAfter}, and
 * the stops that pause, finish and remove carry out.
 */
final class LifecycleControlManager {

  private static final Logger LOG = LoggerFactory.getLogger(LifecycleControlManager.class);

  private final CoordinatorState state;
  private final ChangefeedWrites writes;
  private final PlacementControlManager placement;

  LifecycleControlManager(CoordinatorState state, ChangefeedWrites writes, PlacementControlManager placement) {
    this.state = state;
    this.writes = writes;
    this.placement = placement;
  }

  // ---- admin requests ---------------------------------------------------------------------------------

  /** Creates a changefeed; the next scheduling round places it. {@code startTs} 0 = now. */
  void create(long request, ChangefeedInfo requested, CoordinatorEffects.Builder out) {
    if (!ChangefeedId.isValid(requested.getId())) {
      out.fail(request, new CoordinatorException(Reason.INVALID_ARGUMENT, "invalid changefeed id '" + requested.getId() + "'"));
      return;
    }
    ChangefeedId id = ChangefeedId.of(requested.getId());
    if (state.changefeeds.containsKey(id)) {
      out.fail(request, new CoordinatorException(Reason.ALREADY_EXISTS, "changefeed " + id + " already exists"));
      return;
    }
    if (requested.getStartTs() == 0) {
      out.requestTimestamp(state.await(new Pending.CreateTimestamp(request, requested)));
    } else {
      createAt(request, requested, requested.getStartTs(), out);
    }
  }

  void onCreateTimestamp(Pending.CreateTimestamp p, long timestamp, Throwable error, CoordinatorEffects.Builder out) {
    if (error != null) {
      out.fail(p.request(), new CoordinatorException(Reason.UNAVAILABLE, "no start timestamp: " + error.getMessage() + "; retry"));
      return;
    }
    createAt(p.request(), p.requested(), timestamp, out);
  }

  private void createAt(long request, ChangefeedInfo requested, long startTs, CoordinatorEffects.Builder out) {
    ChangefeedInfo info = requested.toBuilder().setStartTs(startTs).setState(ChangefeedState.CHANGEFEED_STATE_NORMAL)
        .setEpoch(Epochs.COMPAT).setCreateTimeMs(state.now()).build();
    out.call(state.await(new Pending.Create(request, ChangefeedId.of(info.getId()))),
        new RegistryOp.Create(info, ChangefeedStatus.newBuilder().setCheckpointTs(startTs).build()));
  }

  void onCreated(Pending.Create p, RegistryResult result, CoordinatorEffects.Builder out) {
    if (result instanceof RegistryResult.Written w) {
      state.changefeeds.putIfAbsent(w.record().id(), new Changefeed(w.record()));
      LOG.info("event=changefeed_created changefeed={} start_ts={}", p.id(), w.record().info().getStartTs());
      out.reply(p.request(), w.record());
    } else {
      Throwable error = ChangefeedWrites.errorOf(result);
      out.fail(p.request(), error instanceof ChangefeedStoreException e && e.reason() == ChangefeedStoreException.Reason.ALREADY_EXISTS
          ? new CoordinatorException(Reason.ALREADY_EXISTS, e.getMessage()) : error);
    }
  }

  /** Pauses: stopped + stopping persisted together, then the maintainer is removed (cascading). */
  void pause(long request, ChangefeedId id, CoordinatorEffects.Builder out) {
    Changefeed cf = existing(request, id, out);
    if (cf == null) {
      return;
    }
    if (cf.stopping() || cf.state() == ChangefeedState.CHANGEFEED_STATE_STOPPED || cf.state() == ChangefeedState.CHANGEFEED_STATE_FINISHED) {
      out.reply(request, cf.record); // idempotent
      return;
    }
    writes.submit(cf, new Mutation.SetState(ChangefeedState.CHANGEFEED_STATE_STOPPED, ChangefeedProgress.CHANGEFEED_PROGRESS_STOPPING), request, out);
  }

  /** Resumes a stopped, failed or warning changefeed: normal, error cleared, epoch bumped, in one transaction. */
  void resume(long request, ChangefeedId id, long overwriteCheckpointTs, CoordinatorEffects.Builder out) {
    Changefeed cf = existing(request, id, out);
    if (cf == null) {
      return;
    }
    if (cf.stopping()) {
      out.fail(request, new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " is still stopping; retry"));
    } else if (cf.state() == ChangefeedState.CHANGEFEED_STATE_NORMAL) {
      out.reply(request, cf.record);
    } else if (cf.owner() != null || state.operators.busy(id)) {
      out.fail(request, new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " still has a maintainer; retry"));
    } else {
      writes.submit(cf, new Mutation.Resume(overwriteCheckpointTs), request, out);
    }
  }

  /** Removes: removing persisted, maintainer removed with cascade, then both records deleted. */
  void remove(long request, ChangefeedId id, CoordinatorEffects.Builder out) {
    Changefeed cf = existing(request, id, out);
    if (cf == null) {
      return;
    }
    if (cf.progress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING) {
      out.reply(request, cf.record);
      return;
    }
    writes.submit(cf, new Mutation.Remove(), request, out);
  }

  /** Changes the sink, target or options of a stopped changefeed. */
  void update(long request, ChangefeedId id, UnaryOperator<ChangefeedInfo> change, CoordinatorEffects.Builder out) {
    Changefeed cf = existing(request, id, out);
    if (cf == null) {
      return;
    }
    if (cf.state() != ChangefeedState.CHANGEFEED_STATE_STOPPED || cf.stopping()) {
      out.fail(request, new CoordinatorException(Reason.FAILED_PRECONDITION, "changefeed " + id + " must be paused (and fully stopped) to be updated"));
      return;
    }
    writes.submit(cf, new Mutation.UpdateInfo(change), request, out);
  }

  /** Moves a running changefeed's maintainer to {@code dest}. */
  void moveMaintainer(long request, ChangefeedId id, NodeId dest, CoordinatorEffects.Builder out) {
    if (existing(request, id, out) == null) {
      return;
    }
    if (!state.schedulableNodes().contains(dest)) {
      out.fail(request, new CoordinatorException(Reason.INVALID_ARGUMENT, "node " + dest + " is not a live, schedulable node"));
    } else if (placement.move(id, dest, out)) {
      out.reply(request, null);
    } else {
      out.fail(request, new CoordinatorException(Reason.UNAVAILABLE, "changefeed " + id + " cannot move now (no running maintainer, already there, or busy)"));
    }
  }

  private Changefeed existing(long request, ChangefeedId id, CoordinatorEffects.Builder out) {
    Changefeed cf = state.changefeeds.get(id);
    if (cf == null) {
      out.fail(request, CoordinatorState.notFound(id));
    }
    return cf;
  }

  // ---- what the maintainer reports --------------------------------------------------------------------

  /** The owner reported an error: warning with a backoff, failed once warning for {@code failedAfter}. */
  void onMaintainerError(Changefeed cf, RunningError error, CoordinatorEffects.Builder out) {
    if (cf.writing() || (cf.state() != ChangefeedState.CHANGEFEED_STATE_NORMAL && cf.state() != ChangefeedState.CHANGEFEED_STATE_WARNING)) {
      return;
    }
    long now = state.now();
    if (cf.warningSince == 0) {
      cf.warningSince = now;
    }
    boolean failed = now - cf.warningSince >= state.settings.failedAfter().toMillis();
    cf.backoffMillis = cf.backoffMillis == 0 ? state.settings.retryInitial().toMillis()
        : Math.min(cf.backoffMillis * 2, state.settings.retryMax().toMillis());
    cf.retryAt = now + cf.backoffMillis;
    ChangefeedState next = failed ? ChangefeedState.CHANGEFEED_STATE_FAILED : ChangefeedState.CHANGEFEED_STATE_WARNING;
    LOG.warn("event=changefeed_error changefeed={} state={} retry_in_ms={} code={} error=\"{}\"", cf.id(), next,
        failed ? -1 : cf.backoffMillis, error.getCode(), error.getMessage());
    writes.submit(cf, new Mutation.Fail(next, error), 0, out);
  }

  /**
   * The owner moved the checkpoint past the persisted one while warning: normal again, once (a status comes every
   * heartbeat, a write may be slow), and only for the epoch that reported it.
   */
  void onProgress(Changefeed cf, CoordinatorEffects.Builder out) {
    Mutation clear = new Mutation.ClearWarning(cf.epoch());
    if (cf.state() == ChangefeedState.CHANGEFEED_STATE_WARNING && cf.reportedCheckpoint > cf.record.status().getCheckpointTs()
        && cf.queued.stream().noneMatch(q -> q.mutation().equals(clear))) {
      writes.submit(cf, clear, 0, out);
    }
  }

  /** An operator was rejected by its destination: an error of the changefeed, as if its maintainer had reported it. */
  void onRejected(Changefeed cf, MaintainerOperator op, CoordinatorEffects.Builder out) {
    onMaintainerError(cf, RunningError.newBuilder().setNodeId(op.destination().map(NodeId::value).orElse(""))
        .setCode("maintainer_rejected").setMessage(op.error()).setTimeMs(state.now()).build(), out);
  }

  // ---- stops ------------------------------------------------------------------------------------------

  /** Stops the maintainer of every changefeed being paused, finished or removed. */
  void driveStops(CoordinatorEffects.Builder out) {
    for (Changefeed cf : state.changefeeds.values()) {
      if (!cf.stopping() || cf.writing() || state.operators.busy(cf.id())) {
        continue;
      }
      boolean removed = cf.progress() == ChangefeedProgress.CHANGEFEED_PROGRESS_REMOVING;
      if (cf.owner() != null && state.nodes.contains(cf.owner())) {
        state.operators.reserve(cf.id());
        placement.push(new StopChangefeed(cf.owner(), state.electionVersion, cf.id(), cf.epoch(), removed), out);
        continue;
      }
      // Nobody runs it (or its node is gone): a newer epoch, then a remove-only maintainer on a live node
      // closes every dispatcher manager, fenced above every older owner.
      List<NodeId> live = state.schedulableNodes();
      if (!live.isEmpty()) {
        placement.stopOwnerless(cf, live.get(Math.floorMod(cf.id().hashCode(), live.size())), out);
      }
    }
  }

  /** The stop operator succeeded: deleted when removing, else stopped (progress none). */
  void completeStop(Changefeed cf, boolean removed, CoordinatorEffects.Builder out) {
    writes.submit(cf, removed ? new Mutation.Delete() : new Mutation.StopDone(), 0, out);
  }
}
