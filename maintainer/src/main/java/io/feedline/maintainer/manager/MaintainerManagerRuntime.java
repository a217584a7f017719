package io.feedline.maintainer.manager;

import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.time.Scheduler;
import io.feedline.maintainer.Maintainer;
import io.feedline.proto.NodeLiveness;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Performs the {@link MaintainerManager}'s decisions on its context: sends their messages, starts and
 * stops maintainers, feeds every stop's completion back as a new input, and ticks the maintainer
 * heartbeat. Holds no decisions of its own. Not thread-safe: everything runs on the scheduler's context.
 */
public final class MaintainerManagerRuntime {

  private final MaintainerManager manager;
  private final Outbox outbox;
  private final Scheduler scheduler;
  private final long heartbeatMillis;
  private Scheduler.Cancellable heartbeat;
  private Consumer<NodeLiveness> livenessListener = liveness -> { };
  private NodeLiveness reportedLiveness;

  public MaintainerManagerRuntime(MaintainerManager manager, Outbox outbox, Scheduler scheduler, Duration heartbeatInterval) {
    this.manager = manager;
    this.outbox = outbox;
    this.scheduler = scheduler;
    this.heartbeatMillis = heartbeatInterval.toMillis();
  }

  public MaintainerManager manager() {
    return manager;
  }

  /** Told, on this context, of every change of the node's liveness after it happened. */
  public void onLivenessChange(Consumer<NodeLiveness> listener) {
    this.livenessListener = listener;
    this.reportedLiveness = manager.liveness();
  }

  /** Starts the maintainer heartbeat. */
  public void start() {
    heartbeat = scheduler.periodic(heartbeatMillis, () -> perform(manager.onHeartbeatTick(scheduler.nowMillis())));
  }

  public void stop() {
    if (heartbeat != null) {
      heartbeat.cancel();
    }
  }

  /** The node's metastore session is lost: the self-fence (see {@link MaintainerManager#onSessionLost}). */
  public void sessionLost() {
    perform(manager.onSessionLost(scheduler.nowMillis()));
  }

  /** Handles one inbound message; false when this role does not handle its type. */
  public boolean handle(Inbound message) {
    Optional<MaintainerManagerEffects> effects = manager.onMessage(message, scheduler.nowMillis());
    effects.ifPresent(this::perform);
    return effects.isPresent();
  }

  private void perform(MaintainerManagerEffects effects) {
    effects.messages().forEach(out -> out.sendWith(outbox));
    effects.starts().forEach(Maintainer::start);
    for (MaintainerManagerEffects.StopOrder order : effects.stops()) {
      Maintainer maintainer = order.maintainer();
      maintainer.stop(order.cascade(), order.removed()).onComplete(done ->
          // A stop may complete on any thread; the manager's state is only ever touched on its context.
          scheduler.schedule(0, () -> perform(manager.onMaintainerStopped(maintainer, done.cause(), scheduler.nowMillis()))));
    }
    if (manager.liveness() != reportedLiveness) {
      reportedLiveness = manager.liveness();
      livenessListener.accept(reportedLiveness);
    }
  }
}
