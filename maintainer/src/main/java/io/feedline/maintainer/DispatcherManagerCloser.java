package io.feedline.maintainer;

import io.feedline.common.fence.Epochs;
import io.feedline.common.fence.Fence;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Resender;
import io.feedline.common.messaging.Role;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes one changefeed's dispatcher managers on every live node at one epoch: sends
 * {@link MaintainerCloseRequest} to each node's dispatcher orchestrator and again every resend interval
 * until the node answers success for exactly this epoch. A node that leaves the cluster meanwhile counts
 * as closed: a restarted node is a new node and hosts nothing of the old one. Used by a maintainer that
 * stops with cascade and by the remove-only maintainer. Not thread-safe: runs on the manager's context.
 */
public final class DispatcherManagerCloser {

  private static final Logger LOG = LoggerFactory.getLogger(DispatcherManagerCloser.class);

  private final ChangefeedId changefeed;
  private final MaintainerServices services;
  private final MaintainerCloseRequest request;
  /** Only answers to this closer's own epoch count: a reply to an older close says nothing about this one. */
  private final Fence replies;
  private final Resender<ChangefeedId> resender;
  private final Promise<Void> closed = Promise.promise();
  private Set<NodeId> waitingFor;

  public DispatcherManagerCloser(ChangefeedId changefeed, long epoch, boolean removed, MaintainerServices services) {
    this.changefeed = changefeed;
    this.services = services;
    this.request = MaintainerCloseRequest.newBuilder()
        .setChangefeedId(changefeed.value())
        .setRemoved(removed)
        .setEpoch(epoch)
        .build();
    this.replies = Fence.ownedBy(services.self(), epoch);
    this.resender = new Resender<>(services.scheduler(), services.resendInterval().toMillis());
  }

  /** Starts closing on the nodes live now (once; later calls return the same future). Never fails. */
  public Future<Void> start() {
    if (waitingFor == null) {
      waitingFor = new HashSet<>(services.liveNodes().get());
      LOG.info("event=dispatcher_managers_closing changefeed={} epoch={} removed={} nodes={}",
          changefeed, Epochs.format(request.getEpoch()), request.getRemoved(), waitingFor.size());
      resender.start(changefeed, this::sendRound);
    }
    return closed.future();
  }

  /** A node's answer. {@code success=false} means it is still closing: the next round asks again. */
  public void onResponse(NodeId from, MaintainerCloseResponse response) {
    if (waitingFor == null || !response.getSuccess() || !replies.admitReply(response.getEpoch()).accepted()) {
      return;
    }
    if (waitingFor.remove(from)) {
      finishIfAllClosed();
    }
  }

  private void sendRound() {
    waitingFor.retainAll(services.liveNodes().get());
    if (finishIfAllClosed()) {
      return;
    }
    // A copy: a send may be answered synchronously (in tests), which shrinks the set.
    for (NodeId node : List.copyOf(waitingFor)) {
      services.outbox().send(node, Role.DISPATCHER_ORCHESTRATOR, request);
    }
  }

  private boolean finishIfAllClosed() {
    if (!waitingFor.isEmpty()) {
      return false;
    }
    resender.stop(changefeed);
    if (closed.tryComplete()) {
      LOG.info("event=dispatcher_managers_closed changefeed={} epoch={}", changefeed, Epochs.format(request.getEpoch()));
    }
    return true;
  }
}
