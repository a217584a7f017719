package io.feedline.maintainer.changefeed;

import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.time.Scheduler;
import io.feedline.maintainer.DispatcherManagerCloser;
import io.feedline.maintainer.Maintainer;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.proto.DrainTarget;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerStatus;
import io.vertx.core.Future;

/**
 * Runs one {@link ChangefeedMaintainer} on the maintainer manager's context: ticks it every maintainer
 * tick with the live node set, feeds it the dispatcher side's messages, and sends what it returns. On a
 * stop with cascade it closes the changefeed's dispatcher managers everywhere; without, the dispatchers
 * keep running for the next owner to adopt. Holds no decisions of its own.
 */
public final class MaintainerRuntime implements Maintainer {

  private final ChangefeedMaintainer maintainer;
  private final MaintainerConfig config;
  private final MaintainerServices services;
  private final long tickMillis;
  private Scheduler.Cancellable ticker;
  private DispatcherManagerCloser closer;
  private Future<Void> stopped;

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
    tick();
    ticker = services.scheduler().periodic(tickMillis, this::tick);
  }

  @Override
  public Future<Void> stop(boolean cascade, boolean removed) {
    if (stopped == null) {
      if (ticker != null) {
        ticker.cancel();
      }
      if (cascade) {
        closer = new DispatcherManagerCloser(config.changefeed(), config.epoch(), removed, services);
        stopped = closer.start();
      } else {
        stopped = Future.succeededFuture();
      }
    }
    return stopped;
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
    if (message instanceof MaintainerCloseResponse response) {
      if (closer != null) {
        closer.onResponse(from, response);
      }
    } else if (stopped == null) {
      perform(maintainer.onMessage(from, message));
    }
  }

  /** The state machine, for tests and the admin surface; call on the manager's context. */
  public ChangefeedMaintainer maintainer() {
    return maintainer;
  }

  private void tick() {
    perform(maintainer.tick(services.scheduler().nowMillis(), services.liveNodes().get()));
  }

  private void perform(MaintainerEffects effects) {
    for (Outbound out : effects.messages()) {
      out.sendWith(services.outbox());
    }
  }
}
