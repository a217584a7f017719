package io.feedline.maintainer.changefeed;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.time.Scheduler;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Runs one {@link ChangefeedMaintainer} on the maintainer manager's context: ticks it every maintainer
 * tick with the live node set, feeds it the dispatcher side's messages, and sends what it returns. A
 * stop puts the maintainer in removing mode and keeps ticking and feeding it (its checkpoint still
 * follows the heartbeats, its close requests are resent) until it says the removal is done. Holds no
 * decisions of its own.
 */
public final class MaintainerRuntime implements Maintainer {

  private final ChangefeedMaintainer maintainer;
  private final MaintainerConfig config;
  private final MaintainerServices services;
  private final long tickMillis;
  private Scheduler.Cancellable ticker;
  private Promise<Void> stopped;

  public MaintainerRuntime(MaintainerConfig config, MaintainerServices services, long tickMillis) {
    this.maintainer = new ChangefeedMaintainer(config);
    this.config = config;
    this.services = services;
    this.tickMillis = tickMillis;
  }

  @Override
  public ChangefeedId changefeedId() {
    return config.changefeed();
  }

  @Override
  public long epoch() {
    return config.epoch();
  }

  @Override
  public void start() {
    if (stopped != null) {
      return; // stopped before it started: nothing may tick any more
    }
    tick();
    ticker = services.scheduler().periodic(tickMillis, this::tick);
  }

  /**
   * Done once the maintainer's removal is: with cascade, when every node closed its dispatcher manager
   * (or left); without, at once. A non-cascading stop does not wait for the trigger closes that still
   * run: the dispatchers stay for the next owner, whose own bootstrap closes every trigger but the one
   * it keeps, so waiting would only delay the handoff.
   */
  @Override
  public Future<Void> stop(boolean cascade, boolean removed) {
    if (stopped == null) {
      stopped = Promise.promise();
      perform(maintainer.beginRemoving(services.scheduler().nowMillis(), services.liveNodes().get(), cascade, removed));
    }
    return stopped.future();
  }

  @Override
  public MaintainerStatus status() {
    return maintainer.status();
  }

  @Override
  public void drainTarget(DrainTarget target) {
    maintainer.drainTarget(target);
  }

  @Override
  public void onDispatcherMessage(NodeId from, Message message) {
    perform(maintainer.onMessage(from, message, services.scheduler().nowMillis()));
  }

  /** The state machine, for tests and the admin surface; call on the manager's context. */
  public ChangefeedMaintainer maintainer() {
    return maintainer;
  }

  private void tick() {
    perform(maintainer.tick(services.scheduler().nowMillis(), services.liveNodes().get()));
  }

  private void perform(ChangefeedMaintainerEffects effects) {
    for (Outbound out : effects.messages()) {
      out.sendWith(services.outbox());
    }
    if (stopped != null && maintainer.removalDone() && stopped.tryComplete() && ticker != null) {
      ticker.cancel();
    }
  }
}
