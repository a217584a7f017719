package io.feedline.dispatcher.manager;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.RunningErrorCodes;
import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.barrier.BlockStates;
import io.feedline.common.span.TableSpans;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.feedline.dispatcher.source.SubscriptionCancelledException;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.DispatcherId;
import io.feedline.proto.DispatcherSchedule;
import io.feedline.proto.DispatcherSnapshot;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.InflightOperator;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerPostBootstrapRequest;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.MergeDispatcherRequest;
import io.feedline.proto.OperatorType;
import io.feedline.proto.RunningError;
import io.feedline.proto.ScheduleAction;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.SpanBlockStatus;
import io.feedline.proto.SpanHold;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableSpan;
import io.feedline.proto.Watermark;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The decisions of one changefeed's dispatcher manager on this node: which dispatchers exist, in which
 * state, what is in flight, and what to tell the maintainer. Every input returns {@link DispatcherManagerEffects};
 * nothing here performs I/O, so tests drive it directly. Inputs arrive already admitted by the
 * orchestrator's fence; this class never sees a stale request and never compares epochs.
 *
 * <p>Remote input is never trusted: a malformed item is skipped with a {@link Notice}, the rest of its
 * request still applies, and nothing throws.
 */
public final class DispatcherManager {

  /** Ids of stopped dispatchers remembered to refuse late duplicate creates; ids are never reused. */
  static final int REMEMBERED_STOPPED_IDS = 65_536;
  /**
   * One heartbeat in this long lists every dispatcher; the others only what changed. The complete one is
   * the backstop that lets the owner notice a dispatcher whose one Stopped report was lost; the partial
   * ones keep the steady cost of a hundred thousand idle dispatchers near zero on both sides. Time, not a
   * count of heartbeats: during a drain state changes send heartbeats many times a second, and every
   * twenty-fifth of them listing 30,000 dispatchers was most of what crossed the wire.
   */
  static final long COMPLETE_HEARTBEAT_MILLIS = 5_000;

  private static final TableSpan DDL_SPAN = TableSpans.ddlSpan();
  private static final String SCHEDULE = "ScheduleDispatcherRequest";
  private static final String MERGE = "MergeDispatcherRequest";
  private static final String BOOTSTRAP = "MaintainerBootstrapRequest";
  private static final String POST_BOOTSTRAP = "MaintainerPostBootstrapRequest";
  private static final String DISPATCHER = "Dispatcher";
  private static final String HEARTBEAT_RESPONSE = "HeartbeatResponse";

  private final ChangefeedId changefeed;
  private final NodeId self;
  private final LongSupplier clock;
  private final Map<DispatcherKey, DispatcherEntry> dispatchers = new LinkedHashMap<>();
  /**
   * The same entries by table: a create checks overlaps only among its own table's dispatchers, so
   * placing n spans costs O(n), not O(n^2) (a manager may hold a hundred thousand).
   */
  private final Map<Long, List<DispatcherEntry>> byTable = new HashMap<>();
  /** Merged dispatchers still waiting for their sources to stop: the only ones a stop can start. */
  private final Set<DispatcherEntry> merging = new LinkedHashSet<>();
  private final InflightJournal journal = new InflightJournal();
  /** Stopped since the last heartbeat (or asked to stop while unknown): reported once as Stopped. */
  private final Map<DispatcherKey, SpanStatus> stoppedToReport = new LinkedHashMap<>();
  private final List<RunningError> errorsToReport = new ArrayList<>();
  private final Set<DispatcherKey> stoppedIds = Collections.newSetFromMap(new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<DispatcherKey, Boolean> eldest) {
      return size() > REMEMBERED_STOPPED_IDS;
    }
  });
  private NodeId owner;
  private long epoch;
  private DispatcherKey eventTrigger;
  private DispatcherKey redoTrigger;
  private boolean writePathStopped;
  private long heartbeatSeq;
  /** When the next heartbeat is a complete one (at once: the first, or one the owner asked for). */
  private long completeDueAt = Long.MIN_VALUE;
  /** The owner's bootstrap said it reads partial heartbeats; until then every heartbeat is complete. */
  private boolean ownerReadsPartial;
  /** Working table and trigger dispatchers that write the sink (not redo): kept as they change, read by probes. */
  private int workingWriters;

  /** A sink write outstanding this long holds its span: reported as such to the maintainer. */
  public static final long SINK_STALL_MILLIS = 3_000;
  /** A failure's words in a status stay short: they travel in every heartbeat until reported. */
  static final int HOLD_DETAIL_MAX = 500;

  public DispatcherManager(ChangefeedId changefeed, NodeId self, LongSupplier clock) {
    this.changefeed = changefeed;
    this.self = self;
    this.clock = clock;
  }

  // ---- control requests (already admitted by the fence) ----

  /**
   * A maintainer bootstrapped (or re-bootstrapped) at {@code epoch}: it becomes the owner heartbeats go to.
   * Table trigger takeover: a reused manager must hold no trigger or exactly the requested one; a
   * different one is an error reply and is left in place, never replaced (two DDL writers otherwise).
   */
  public DispatcherManagerEffects bootstrap(NodeId from, long epoch, MaintainerBootstrapRequest request) {
    this.owner = from;
    this.epoch = epoch;
    // A new owner (or one that re-bootstrapped) hears every dispatcher in its next heartbeat, and in all
    // of them unless it said it reads partial ones.
    completeDueAt = Long.MIN_VALUE;
    ownerReadsPartial = request.getAcceptsPartialHeartbeats();
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    DispatcherKey wantEvent = request.hasTableTriggerEventDispatcherId() ? DispatcherKey.of(request.getTableTriggerEventDispatcherId()) : null;
    DispatcherKey wantRedo = request.hasTableTriggerRedoDispatcherId() ? DispatcherKey.of(request.getTableTriggerRedoDispatcherId()) : null;
    wantEvent = wantEvent == null || wantEvent.isMissing() ? null : wantEvent;
    wantRedo = wantRedo == null || wantRedo.isMissing() ? null : wantRedo;
    // Check both before creating either, so a mismatch leaves the manager exactly as it was.
    String mismatch = triggerMismatch("event", eventTrigger, wantEvent);
    if (mismatch == null) {
      mismatch = triggerMismatch("redo", redoTrigger, wantRedo);
    }
    if (mismatch != null) {
      out.notice(Notice.warn(BOOTSTRAP, "trigger_mismatch", mismatch));
      return out.reply(MaintainerBootstrapResponse.newBuilder().setChangefeedId(changefeed.value()).setEpoch(epoch)
          .setError(error("trigger_mismatch", mismatch)).build()).build();
    }
    boolean missing = (wantEvent != null && eventTrigger == null) || (wantRedo != null && redoTrigger == null);
    if (missing && writePathStopped) {
      out.notice(Notice.info(BOOTSTRAP, "write_path_closed", "table trigger not created: the write path is closed"));
    } else {
      if (wantEvent != null && eventTrigger == null) {
        eventTrigger = addTrigger(wantEvent, false, request.getStartTs(), out);
      }
      if (wantRedo != null && redoTrigger == null) {
        redoTrigger = addTrigger(wantRedo, true, request.getStartTs(), out);
      }
    }
    return out.reply(snapshot()).build();
  }

  /** The owner starts the DDL flow: the table triggers begin reading. Idempotent. */
  public DispatcherManagerEffects postBootstrap(MaintainerPostBootstrapRequest request) {
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    DispatcherKey requested = request.hasTableTriggerEventDispatcherId() ? DispatcherKey.of(request.getTableTriggerEventDispatcherId()) : null;
    if (requested == null || requested.isMissing()) {
      return out.notice(Notice.warn(POST_BOOTSTRAP, "missing_dispatcher_id", "post-bootstrap without a table trigger id")).build();
    }
    MaintainerPostBootstrapResponse.Builder reply = MaintainerPostBootstrapResponse.newBuilder()
        .setChangefeedId(changefeed.value()).setTableTriggerEventDispatcherId(requested.proto()).setEpoch(epoch);
    if (!requested.equals(eventTrigger)) {
      String detail = eventTrigger == null
          ? "no table trigger dispatcher here for " + requested
          : "table trigger is " + eventTrigger + ", post-bootstrap names " + requested;
      out.notice(Notice.warn(POST_BOOTSTRAP, "trigger_mismatch", detail));
      return out.reply(reply.setError(error("trigger_mismatch", detail)).build()).build();
    }
    if (writePathStopped) {
      return out.notice(Notice.info(POST_BOOTSTRAP, "write_path_closed", "DDL flow not started: the write path is closed")).build();
    }
    startIfIdle(eventTrigger, out);
    startIfIdle(redoTrigger, out);
    return out.reply(reply.build()).build();
  }

  /** Creates and removes dispatchers. Both are idempotent; every item is judged on its own. */
  public DispatcherManagerEffects schedule(ScheduleDispatcherRequest request) {
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    for (DispatcherSchedule item : request.getItemsList()) {
      DispatcherKey ref = refOf(item.hasId(), item.getId());
      if (ref == null) {
        out.notice(Notice.warn(SCHEDULE, "missing_dispatcher_id", "schedule item without a dispatcher id"));
        continue;
      }
      switch (item.getAction()) {
        case SCHEDULE_ACTION_CREATE -> create(ref, item, out);
        case SCHEDULE_ACTION_REMOVE -> remove(ref, item, out);
        default -> out.notice(Notice.warn(SCHEDULE, "unknown_action", "schedule item " + ref + " has action " + item.getActionValue()));
      }
    }
    return out.build();
  }

  /**
   * Replaces adjacent dispatchers of one table by one covering their spans. The merged dispatcher starts
   * only once every source dispatcher has stopped, from the lowest of their final checkpoints, so the
   * span never has two writers and nothing below the checkpoint is skipped.
   */
  public DispatcherManagerEffects merge(MergeDispatcherRequest request) {
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    DispatcherKey merged = refOf(request.hasMergedId(), request.getMergedId());
    if (merged == null || request.getMergedFromCount() < 2) {
      return out.notice(Notice.warn(MERGE, "malformed_merge", "merge needs a merged id and at least two dispatchers to merge")).build();
    }
    if (dispatchers.containsKey(merged)) {
      return out.build();
    }
    List<DispatcherEntry> parts = new ArrayList<>();
    for (DispatcherId id : request.getMergedFromList()) {
      DispatcherEntry part = dispatchers.get(DispatcherKey.of(id));
      if (part == null || part.stopRequested || part.kind != DispatcherEntry.Kind.TABLE || part.state != ComponentState.COMPONENT_STATE_WORKING) {
        return out.notice(Notice.warn(MERGE, "merge_source_not_working",
            "merge into " + merged + ": " + DispatcherKey.of(id) + " is not a working table dispatcher here")).build();
      }
      parts.add(part);
    }
    var span = TableSpans.union(parts.stream().map(p -> p.span).toList());
    boolean sameKind = parts.stream().allMatch(p -> p.redo == parts.get(0).redo && p.schemaId == parts.get(0).schemaId);
    if (span.isEmpty() || !sameKind) {
      return out.notice(Notice.warn(MERGE, "spans_not_adjacent", "merge into " + merged + ": the spans are not adjacent spans of one table")).build();
    }
    if (writePathStopped) {
      return out.notice(Notice.info(MERGE, "write_path_closed", "merge not started: the write path is closed")).build();
    }
    // Until it starts, the merged dispatcher reports the lowest checkpoint of its sources: a lower bound of where it will start.
    long floor = parts.stream().mapToLong(p -> p.checkpointTs).min().orElseThrow();
    DispatcherEntry result = new DispatcherEntry(merged, span.get(), parts.get(0).schemaId, parts.get(0).redo, DispatcherEntry.Kind.TABLE, floor);
    for (DispatcherEntry part : parts) {
      result.waitingFor.add(part.ref);
      journal.put(part.ref, operator(part.ref, part.span, part.schemaId, ScheduleAction.SCHEDULE_ACTION_REMOVE, OperatorType.OPERATOR_TYPE_MERGE, part.checkpointTs));
    }
    journal.put(merged, operator(merged, result.span, result.schemaId, ScheduleAction.SCHEDULE_ACTION_CREATE, OperatorType.OPERATOR_TYPE_MERGE, 0));
    add(result);
    merging.add(result);
    parts.forEach(part -> stop(part, out));
    return out.statusChanged().build();
  }

  /**
   * Barrier actions (contract in control.proto near {@code BlockState}). An action reaches the dispatchers
   * whose table it influences and that are blocked at exactly its commit ts: WRITE has the DDL written,
   * PASS skips it; either way the dispatcher reports DONE and goes on. A dispatcher already writing or
   * passing ignores a resend; one already DONE at that ts reports DONE again (the first report may have
   * been lost). An action no dispatcher here is blocked at is normal (resends, or spans that moved on)
   * and only counted.
   */
  public DispatcherManagerEffects heartbeatResponse(HeartbeatResponse response) {
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    if (response.getSendComplete()) {
      completeDueAt = Long.MIN_VALUE;
    }
    List<SpanBlockStatus> again = new ArrayList<>();
    for (DispatcherAction action : response.getActionsList()) {
      boolean write = action.getAction() == BarrierAction.BARRIER_ACTION_WRITE;
      if (!write && action.getAction() != BarrierAction.BARRIER_ACTION_PASS) {
        out.notice(Notice.warn(HEARTBEAT_RESPONSE, "unknown_barrier_action",
            "barrier action " + action.getActionValue() + " at ts " + action.getCommitTs() + " is neither WRITE nor PASS"));
        continue;
      }
      boolean reached = false;
      for (DispatcherEntry entry : dispatchers.values()) {
        if (entry.stopRequested || entry.block.getBlockTs() != action.getCommitTs()
            || !BlockStates.influences(action.getInfluenced(), entry.span.getTableId(), entry.schemaId)) {
          continue;
        }
        if (BlockStates.waitingAt(entry.block, action.getCommitTs()) && !entry.releaseIssued) {
          entry.releaseIssued = true;
          if (write) {
            entry.block = BlockStates.writing(entry.block);
          }
          out.command(new DispatcherManagerEffects.Release(entry.ref, action.getCommitTs(), write)).statusChanged();
          reached = true;
        } else if (entry.block.getStage() == BlockStage.BLOCK_STAGE_DONE) {
          again.add(entry.blockStatus());
          reached = true;
        }
      }
      if (!reached) {
        out.notice(Notice.info(HEARTBEAT_RESPONSE, "barrier_action_unmatched", (write ? "WRITE" : "PASS") + " at ts "
            + action.getCommitTs() + ": no dispatcher here is blocked there (a resend, or it moved on)"));
      }
    }
    if (!again.isEmpty()) {
      out.reply(blockStatusRequest(again));
    }
    return out.build();
  }

  /** Local fence or close: every dispatcher stops writing now, and nothing new starts. */
  public DispatcherManagerEffects stopWritePath() {
    writePathStopped = true;
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    for (DispatcherEntry entry : List.copyOf(dispatchers.values())) {
      stop(entry, out);
    }
    return out.build();
  }

  // ---- what running dispatchers report ----

  public DispatcherManagerEffects dispatcherWorking(DispatcherKey ref) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry == null || entry.stopRequested) {
      return DispatcherManagerEffects.NONE;
    }
    if (entry.state != ComponentState.COMPONENT_STATE_WORKING && !entry.redo) {
      workingWriters++;
    }
    entry.state = ComponentState.COMPONENT_STATE_WORKING;
    journal.removeCreates(ref);
    return new DispatcherManagerEffects.Builder().statusChanged().build();
  }

  /** Progress is carried by the next periodic heartbeat; checkpoints never move back. */
  public void dispatcherProgressed(DispatcherKey ref, long checkpointTs, long resolvedTs) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry != null) {
      entry.checkpointTs = Math.max(entry.checkpointTs, checkpointTs);
      entry.resolvedTs = Math.max(entry.resolvedTs, resolvedTs);
    }
  }

  /**
   * The dispatcher made everything below {@code ddl} durable and blocked there: the maintainer hears it at
   * once, and again every heartbeat interval ({@link #blockStatus}) until an action arrives.
   */
  public DispatcherManagerEffects dispatcherBlocked(DispatcherKey ref, DdlEvent ddl) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry == null || entry.stopRequested) {
      return DispatcherManagerEffects.NONE;
    }
    entry.checkpointTs = Math.max(entry.checkpointTs, ddl.commitTs() - 1);
    entry.block = BlockStates.waiting(ddl);
    entry.releaseIssued = false;
    return new DispatcherManagerEffects.Builder().reply(blockStatusRequest(List.of(entry.blockStatus()))).statusChanged().build();
  }

  /** The DDL was written or passed: DONE goes out at once, and the heartbeats carry it from now on. */
  public DispatcherManagerEffects dispatcherPassed(DispatcherKey ref, DdlEvent ddl) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry == null || entry.block.getBlockTs() != ddl.commitTs()) {
      return DispatcherManagerEffects.NONE;
    }
    entry.checkpointTs = Math.max(entry.checkpointTs, ddl.commitTs());
    entry.resolvedTs = Math.max(entry.resolvedTs, ddl.commitTs());
    entry.block = BlockStates.done(entry.block);
    return new DispatcherManagerEffects.Builder().reply(blockStatusRequest(List.of(entry.blockStatus()))).statusChanged().build();
  }

  /**
   * The periodic resend of every block still waiting for its action, or null when none is: the first
   * report or the maintainer's answer may have been lost, and a new maintainer must hear it too.
   */
  public BlockStatusRequest blockStatus() {
    List<SpanBlockStatus> waiting = new ArrayList<>();
    for (DispatcherEntry entry : dispatchers.values()) {
      if (!entry.stopRequested && !entry.releaseIssued && entry.block.getBlocked()) {
        waiting.add(entry.blockStatus());
      }
    }
    return waiting.isEmpty() ? null : blockStatusRequest(waiting);
  }

  private BlockStatusRequest blockStatusRequest(List<SpanBlockStatus> statuses) {
    return BlockStatusRequest.newBuilder().setChangefeedId(changefeed.value()).setEpoch(epoch).addAllStatuses(statuses).build();
  }

  /**
   * A dispatcher failed on its own, in its source or its sink ({@code side}): stopped as by
   * {@link #dispatcherStopped}, and its stopped status says which side failed and in what words, so the
   * maintainer can tell a user why the span's checkpoint stands still.
   */
  public DispatcherManagerEffects dispatcherFailed(DispatcherKey ref, Throwable cause, SpanHold side) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry != null) {
      entry.hold = side;
      entry.holdDetail = holdDetail(cause);
    }
    return dispatcherStopped(ref, cause);
  }

  /** A closed write path or a cancelled subscription: this node stopped the dispatcher, nothing failed. */
  private static boolean stoppedHere(Throwable cause) {
    return cause instanceof WritePathClosedException || cause instanceof SubscriptionCancelledException;
  }

  /** The failure in its own words, as a status carries it: redacted (it may quote a URI) and bounded. */
  private static String holdDetail(Throwable cause) {
    String words = SinkUris.redact(cause.getMessage() == null ? cause.toString() : cause.getMessage());
    return words.length() <= HOLD_DETAIL_MAX ? words : words.substring(0, HOLD_DETAIL_MAX) + "…";
  }

  /**
   * The sink writes outstanding for {@link #SINK_STALL_MILLIS} or more, by dispatcher, with when each began
   * (the runtime looks right before every heartbeat, which carries the change): those spans are held by their
   * sink, the others no longer. Returns whether any status changed.
   */
  public boolean sinkStalls(Map<DispatcherKey, Long> stalledSince) {
    boolean changed = false;
    for (DispatcherEntry entry : dispatchers.values()) {
      Long since = stalledSince.get(entry.ref);
      SpanHold hold = since == null ? SpanHold.SPAN_HOLD_NONE : SpanHold.SPAN_HOLD_SINK;
      if (entry.hold != hold) {
        entry.hold = hold;
        entry.holdDetail = since == null ? "" : "a write has waited for the sink since " + Instant.ofEpochMilli(since);
        changed = true;
      }
    }
    return changed;
  }

  /**
   * A dispatcher stopped writing: asked to ({@code cause} null or a closed write path) or on a failure,
   * which is reported to the maintainer once.
   */
  public DispatcherManagerEffects dispatcherStopped(DispatcherKey ref, Throwable cause) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry == null) {
      return DispatcherManagerEffects.NONE;
    }
    if (cause == null || stoppedHere(cause)) {
      // Not a failure: a stalled write it was holding says nothing of one, and a Stopped status with a hold
      // means one (the maintainer keeps it for the span).
      entry.hold = SpanHold.SPAN_HOLD_NONE;
      entry.holdDetail = "";
    }
    DispatcherManagerEffects.Builder out = new DispatcherManagerEffects.Builder();
    if (stoppedHere(cause)) {
      out.notice(Notice.info(DISPATCHER, "write_path_closed", "dispatcher " + ref + " stopped: " + cause.getMessage()));
    } else if (cause instanceof UnwritableSchemaException) {
      // The maintainer makes this the changefeed's error: the detail is for the user, so it is the sink's own words.
      out.notice(Notice.warn(DISPATCHER, RunningErrorCodes.SINK_ERROR,
          "dispatcher " + ref + " on " + TableSpans.format(entry.span) + " failed: " + cause.getMessage()));
      errorsToReport.add(error(RunningErrorCodes.SINK_ERROR, cause.getMessage()));
    } else if (cause != null) {
      String detail = "dispatcher " + ref + " on " + TableSpans.format(entry.span) + " failed: " + cause;
      out.notice(Notice.warn(DISPATCHER, "dispatcher_failed", detail));
      errorsToReport.add(error("dispatcher_failed", detail));
    }
    finishStopped(entry, out);
    return out.statusChanged().build();
  }

  /**
   * The next heartbeat for the owner: the watermark over live dispatchers, the status of each (a partial
   * heartbeat: of each whose status changed since the last one), and (once) every dispatcher stopped
   * since the last one.
   */
  public DispatcherHeartbeat heartbeat() {
    long now = clock.getAsLong();
    // Also due when the clock stepped back: a complete heartbeat never waits longer than its interval.
    boolean complete = !ownerReadsPartial || now >= completeDueAt || completeDueAt - now > COMPLETE_HEARTBEAT_MILLIS;
    if (complete) {
      completeDueAt = now + COMPLETE_HEARTBEAT_MILLIS;
    }
    DispatcherHeartbeat.Builder hb = DispatcherHeartbeat.newBuilder().setChangefeedId(changefeed.value()).setEpoch(epoch)
        .setPartial(!complete);
    heartbeatSeq++;
    hb.setSeq(heartbeatSeq);
    if (!dispatchers.isEmpty()) {
      long checkpoint = Long.MAX_VALUE;
      long resolved = Long.MAX_VALUE;
      for (DispatcherEntry entry : dispatchers.values()) {
        checkpoint = Math.min(checkpoint, entry.checkpointTs);
        resolved = Math.min(resolved, entry.resolvedTs);
      }
      hb.setWatermark(Watermark.newBuilder().setCheckpointTs(checkpoint).setResolvedTs(resolved).setSeq(heartbeatSeq));
      for (DispatcherEntry entry : dispatchers.values()) {
        if (complete || entry.changedSinceReport()) {
          hb.addStatuses(entry.report());
        }
      }
    }
    hb.addAllStatuses(stoppedToReport.values());
    hb.addAllErrors(errorsToReport);
    stoppedToReport.clear();
    errorsToReport.clear();
    return hb.build();
  }

  // ---- the bootstrap snapshot ----

  MaintainerBootstrapResponse snapshot() {
    MaintainerBootstrapResponse.Builder r = MaintainerBootstrapResponse.newBuilder().setChangefeedId(changefeed.value()).setEpoch(epoch);
    dispatchers.values().forEach(entry -> r.addDispatchers(entry.snapshot()));
    r.addAllOperators(journal.reportable(epoch, dispatchers.keySet()));
    DispatcherEntry trigger = eventTrigger == null ? null : dispatchers.get(eventTrigger);
    if (trigger != null) {
      r.setTriggerCheckpointTs(trigger.checkpointTs);
    }
    return r.build();
  }

  // ---- internals ----

  private void create(DispatcherKey ref, DispatcherSchedule item, DispatcherManagerEffects.Builder out) {
    if (!item.hasSpan()) {
      out.notice(Notice.warn(SCHEDULE, "missing_span", "create of " + ref + " without a span"));
      return;
    }
    DispatcherEntry existing = dispatchers.get(ref);
    if (existing != null) {
      if (!existing.span.equals(item.getSpan())) {
        out.notice(Notice.warn(SCHEDULE, "id_reused_for_other_span",
            "create of " + ref + " for " + TableSpans.format(item.getSpan()) + " but it replicates " + TableSpans.format(existing.span)));
      }
      return; // a resent create: already done or under way
    }
    if (stoppedIds.contains(ref)) {
      // A delayed duplicate of a create whose dispatcher has since been removed must not resurrect it.
      out.notice(Notice.info(SCHEDULE, "create_after_stop", "create of " + ref + " ignored: that dispatcher already stopped here"));
      stoppedToReport.put(ref, stoppedStatus(ref, item.getStartTs()));
      out.statusChanged();
      return;
    }
    if (writePathStopped) {
      out.notice(Notice.info(SCHEDULE, "write_path_closed", "create of " + ref + " ignored: the write path is closed"));
      return;
    }
    for (DispatcherEntry other : byTable.getOrDefault(item.getSpan().getTableId(), List.of())) {
      if (other.redo == item.getRedo() && TableSpans.overlaps(other.span, item.getSpan())) {
        // Two writers of one key range on one node would break the single-writer invariant; the
        // maintainer resends and converges once the other one is removed.
        out.notice(Notice.warn(SCHEDULE, "span_overlap", "create of " + ref + " for " + TableSpans.format(item.getSpan())
            + " refused: " + other.ref + " still replicates " + TableSpans.format(other.span)));
        return;
      }
    }
    // Journaled before it runs: a bootstrap that arrives while it starts must report it.
    journal.put(ref, operator(ref, item.getSpan(), item.getSchemaId(), ScheduleAction.SCHEDULE_ACTION_CREATE, item.getOperatorType(), item.getStartTs()));
    DispatcherEntry entry = new DispatcherEntry(ref, item.getSpan(), item.getSchemaId(), item.getRedo(), DispatcherEntry.Kind.TABLE, item.getStartTs());
    add(entry);
    entry.started = true;
    out.command(new DispatcherManagerEffects.Start(entry.spec())).statusChanged();
  }

  private void remove(DispatcherKey ref, DispatcherSchedule item, DispatcherManagerEffects.Builder out) {
    DispatcherEntry entry = dispatchers.get(ref);
    if (entry == null) {
      // Unknown here (never created, or already stopped and reported): say Stopped so the maintainer converges.
      stoppedToReport.put(ref, stoppedStatus(ref, item.getStartTs()));
      out.statusChanged();
      return;
    }
    if (entry.stopRequested) {
      return;
    }
    journal.put(ref, operator(ref, entry.span, entry.schemaId, ScheduleAction.SCHEDULE_ACTION_REMOVE, item.getOperatorType(), entry.checkpointTs));
    stop(entry, out);
  }

  private DispatcherKey addTrigger(DispatcherKey ref, boolean redo, long startTs, DispatcherManagerEffects.Builder out) {
    DispatcherEntry.Kind kind = redo ? DispatcherEntry.Kind.REDO_TRIGGER : DispatcherEntry.Kind.EVENT_TRIGGER;
    add(new DispatcherEntry(ref, DDL_SPAN, 0, redo, kind, startTs));
    out.statusChanged();
    return ref;
  }

  private void startIfIdle(DispatcherKey ref, DispatcherManagerEffects.Builder out) {
    DispatcherEntry entry = ref == null ? null : dispatchers.get(ref);
    if (entry != null && !entry.started && !entry.stopRequested) {
      entry.started = true;
      out.command(new DispatcherManagerEffects.Start(entry.spec()));
    }
  }

  private void stop(DispatcherEntry entry, DispatcherManagerEffects.Builder out) {
    if (entry.stopRequested) {
      return;
    }
    entry.stopRequested = true;
    if (entry.started) {
      out.command(new DispatcherManagerEffects.Stop(entry.ref));
    } else {
      finishStopped(entry, out);
    }
    out.statusChanged();
  }

  private void finishStopped(DispatcherEntry entry, DispatcherManagerEffects.Builder out) {
    dispatchers.remove(entry.ref);
    List<DispatcherEntry> ofTable = byTable.get(entry.span.getTableId());
    if (ofTable != null && ofTable.remove(entry) && ofTable.isEmpty()) {
      byTable.remove(entry.span.getTableId());
    }
    merging.remove(entry);
    stoppedIds.add(entry.ref);
    journal.removeAll(entry.ref);
    if (entry.state == ComponentState.COMPONENT_STATE_WORKING && !entry.redo) {
      workingWriters--;
    }
    entry.state = ComponentState.COMPONENT_STATE_STOPPED;
    stoppedToReport.put(entry.ref, entry.status());
    if (entry.ref.equals(eventTrigger)) {
      eventTrigger = null;
    }
    if (entry.ref.equals(redoTrigger)) {
      redoTrigger = null;
    }
    for (DispatcherEntry merged : List.copyOf(merging)) {
      if (merged.waitingFor.remove(entry.ref)) {
        merged.mergeStartTs = Math.min(merged.mergeStartTs, entry.checkpointTs);
        if (!merged.waitingFor.isEmpty()) {
          continue;
        }
        merging.remove(merged);
        if (!merged.stopRequested) {
          // From the lowest final checkpoint: every source has written everything up to it, and stopped.
          merged.startTs = merged.mergeStartTs;
          merged.checkpointTs = merged.startTs;
          merged.resolvedTs = merged.startTs;
          merged.started = true;
          out.command(new DispatcherManagerEffects.Start(merged.spec()));
        }
      }
    }
  }

  private void add(DispatcherEntry entry) {
    dispatchers.put(entry.ref, entry);
    byTable.computeIfAbsent(entry.span.getTableId(), t -> new ArrayList<>(1)).add(entry);
  }

  private String triggerMismatch(String which, DispatcherKey current, DispatcherKey wanted) {
    if (wanted == null || current == null || current.equals(wanted)) {
      return null;
    }
    return "table trigger " + which + " dispatcher is " + current + " but the bootstrap asks for " + wanted
        + "; it is not replaced in place";
  }

  private InflightOperator operator(DispatcherKey ref, TableSpan span, long schemaId, ScheduleAction action, OperatorType type, long startTs) {
    return InflightOperator.newBuilder().setId(ref.proto()).setSpan(span).setSchemaId(schemaId).setAction(action)
        .setOperatorType(type).setStartTs(startTs).setEpoch(epoch).build();
  }

  private static SpanStatus stoppedStatus(DispatcherKey ref, long checkpointTs) {
    return SpanStatus.newBuilder().setId(ref.proto()).setState(ComponentState.COMPONENT_STATE_STOPPED).setCheckpointTs(checkpointTs).build();
  }

  private static DispatcherKey refOf(boolean present, DispatcherId id) {
    if (!present) {
      return null;
    }
    DispatcherKey ref = DispatcherKey.of(id);
    return ref.isMissing() ? null : ref;
  }

  private RunningError error(String code, String message) {
    return RunningError.newBuilder().setNodeId(self.value()).setCode(code).setMessage(message).setTimeMs(clock.getAsLong()).build();
  }

  // ---- read-only views ----

  /** Every dispatcher of this changefeed on this node as a bootstrap snapshot reports it (read-only view). */
  public List<DispatcherSnapshot> dispatcherSnapshots() {
    return dispatchers.values().stream().map(DispatcherEntry::snapshot).toList();
  }

  /** How many of {@link #dispatcherSnapshots()} are Working and not redo, without building them. */
  public int workingWriterCount() {
    return workingWriters;
  }

  /** Dispatchers of this changefeed on this node, running or starting. */
  public int dispatcherCount() {
    return dispatchers.size();
  }

  public ChangefeedId changefeed() {
    return changefeed;
  }

  public NodeId owner() {
    return owner;
  }

  public long epoch() {
    return epoch;
  }

  public boolean writePathStopped() {
    return writePathStopped;
  }

  /** The state of a dispatcher here, or null when it is not (or no longer) here. */
  public ComponentState state(DispatcherKey ref) {
    DispatcherEntry entry = dispatchers.get(ref);
    return entry == null ? null : entry.state;
  }

  /** This manager's dispatchers, in its own order (a {@code Set.copyOf} would iterate in a per-JVM random order). */
  public Set<DispatcherKey> dispatcherIds() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(dispatchers.keySet()));
  }

  public DispatcherKey eventTrigger() {
    return eventTrigger;
  }

  public DispatcherKey redoTrigger() {
    return redoTrigger;
  }

  /** Every journaled operator, unfiltered. */
  public List<InflightOperator> journal() {
    return List.copyOf(journal.all());
  }
}
