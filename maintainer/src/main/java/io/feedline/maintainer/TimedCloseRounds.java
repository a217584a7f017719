package io.feedline.maintainer;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Resender;
import io.feedline.proto.MaintainerCloseResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * Performs a {@link DispatcherCloseRounds} on its own timer, for the remove-only maintainer (a
 * maintainer that stops with cascade drives the same closing from its tick): sends a round at once and
 * every resend interval after, and completes once every node has closed or left. Not thread-safe: runs
 * on the manager's context.
 */
public final class TimedCloseRounds {

  private final ChangefeedId changefeed;
  private final long epoch;
  private final boolean removed;
  private final MaintainerServices services;
  private final Resender<ChangefeedId> resender;
  private final Promise<Void> closed = Promise.promise();
  private DispatcherCloseRounds closing;

  public TimedCloseRounds(ChangefeedId changefeed, long epoch, boolean removed, MaintainerServices services) {
    this.changefeed = changefeed;
    this.epoch = epoch;
    this.removed = removed;
    this.services = services;
    this.resender = new Resender<>(services.scheduler(), services.resendInterval().toMillis());
  }

  /** Starts closing on the nodes live now (once; later calls return the same future). Never fails. */
  public Future<Void> start() {
    if (closing == null) {
      closing = new DispatcherCloseRounds(changefeed, epoch, removed, services.liveNodes().get());
      resender.start(changefeed, this::sendRound);
    }
    return closed.future();
  }

  /** A node's answer. {@code success=false} means it is still closing: the next round asks again. */
  public void onResponse(NodeId from, MaintainerCloseResponse response) {
    if (closing != null) {
      closing.onResponse(from, response);
      completeIfClosed();
    }
  }

  private void sendRound() {
    // Computed before sending: a send may be answered synchronously (in tests).
    for (Outbound out : closing.round(services.liveNodes().get())) {
      out.sendWith(services.outbox());
    }
    completeIfClosed();
  }

  private void completeIfClosed() {
    if (closing.closed()) {
      resender.stop(changefeed);
      closed.tryComplete();
    }
  }
}
