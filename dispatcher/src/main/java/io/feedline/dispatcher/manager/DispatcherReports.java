package io.feedline.dispatcher.manager;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.time.Scheduler;
import io.feedline.dispatcher.dispatcher.Dispatcher;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.proto.SpanHold;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Carries what dispatchers report from their data lanes to the manager's control context, in order per
 * dispatcher, with one control task per batch of reports. Progress is coalesced: a progress report
 * still waiting, and not followed by another report of its dispatcher, is raised in place. So however
 * fast the data plane runs, the control context handles at most one progress per dispatcher per task
 * (not one per written batch), and a block, pass or failure is never overtaken by a later progress.
 */
final class DispatcherReports implements Dispatcher.Listener {

  private final Scheduler control;
  private final Dispatcher.Listener target;
  private final Object lock = new Object();
  private List<Consumer<Dispatcher.Listener>> queued = new ArrayList<>();
  /** Progress reports that are still the last queued report of their dispatcher. */
  private final Map<DispatcherKey, Progress> openProgress = new HashMap<>();
  private boolean drainQueued;

  /**
   * @param control the manager's context, where {@code target} is told
   */
  DispatcherReports(Scheduler control, Dispatcher.Listener target) {
    this.control = control;
    this.target = target;
  }

  @Override
  public void working(DispatcherKey ref) {
    queue(ref, l -> l.working(ref));
  }

  @Override
  public void progressed(DispatcherKey ref, long checkpointTs, long resolvedTs) {
    synchronized (lock) {
      Progress open = openProgress.get(ref);
      if (open != null) {
        open.checkpointTs = Math.max(open.checkpointTs, checkpointTs);
        open.resolvedTs = Math.max(open.resolvedTs, resolvedTs);
        return;
      }
      Progress progress = new Progress(ref, checkpointTs, resolvedTs);
      openProgress.put(ref, progress);
      add(progress);
    }
  }

  @Override
  public void blocked(DispatcherKey ref, DdlEvent ddl) {
    queue(ref, l -> l.blocked(ref, ddl));
  }

  @Override
  public void passed(DispatcherKey ref, DdlEvent ddl, boolean written) {
    queue(ref, l -> l.passed(ref, ddl, written));
  }

  @Override
  public void failed(DispatcherKey ref, Throwable cause, SpanHold side) {
    queue(ref, l -> l.failed(ref, cause, side));
  }

  private void queue(DispatcherKey ref, Consumer<Dispatcher.Listener> report) {
    synchronized (lock) {
      openProgress.remove(ref);
      add(report);
    }
  }

  private void add(Consumer<Dispatcher.Listener> report) {
    queued.add(report);
    if (!drainQueued) {
      drainQueued = true;
      control.schedule(0, this::drain);
    }
  }

  private void drain() {
    List<Consumer<Dispatcher.Listener>> batch;
    synchronized (lock) {
      batch = queued;
      queued = new ArrayList<>();
      openProgress.clear();
      drainQueued = false;
    }
    // Progress values are final from here: nothing raises a report no longer in openProgress.
    batch.forEach(report -> report.accept(target));
  }

  private static final class Progress implements Consumer<Dispatcher.Listener> {
    private final DispatcherKey ref;
    private long checkpointTs;
    private long resolvedTs;

    Progress(DispatcherKey ref, long checkpointTs, long resolvedTs) {
      this.ref = ref;
      this.checkpointTs = checkpointTs;
      this.resolvedTs = resolvedTs;
    }

    @Override
    public void accept(Dispatcher.Listener listener) {
      listener.progressed(ref, checkpointTs, resolvedTs);
    }
  }
}
