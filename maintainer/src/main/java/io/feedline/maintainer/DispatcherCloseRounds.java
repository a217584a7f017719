package io.feedline.maintainer;

import io.feedline.common.fence.Epochs;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.proto.MaintainerCloseRequest;
import io.feedline.proto.MaintainerCloseResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decisions of closing one changefeed's dispatcher managers at one epoch, as a pure state machine:
 * every node live when it begins is sent a {@link MaintainerCloseRequest} in every round until it
 * answers success for exactly this epoch. A node that leaves the cluster meanwhile counts as closed: a
 * restarted node is a new node and hosts nothing of the old one. Returns what to send; sends nothing.
 * Its driver runs a round every resend interval on the clock it already has: a cascading
 * {@code ChangefeedMaintainer} removal on its tick, the remove-only maintainer through
 * {@link TimedCloseRounds}'s timer. Not thread-safe.
 */
public final class DispatcherCloseRounds {

  private static final Logger LOG = LoggerFactory.getLogger(DispatcherCloseRounds.class);

  private final ChangefeedId changefeed;
  private final MaintainerCloseRequest request;
  private final Set<NodeId> waitingFor;
  private boolean closed;

  /** Begins closing on the nodes {@code live} now; the first {@link #round} asks them. */
  public DispatcherCloseRounds(ChangefeedId changefeed, long epoch, boolean removed, Set<NodeId> live) {
    this.changefeed = changefeed;
    this.request = MaintainerCloseRequest.newBuilder()
        .setChangefeedId(changefeed.value())
        .setRemoved(removed)
        .setEpoch(epoch)
        .build();
    this.waitingFor = new TreeSet<>(live);
    LOG.info("event=dispatcher_managers_closing changefeed={} epoch={} removed={} nodes={}",
        changefeed, Epochs.format(epoch), removed, waitingFor.size());
  }

  /** One round with the nodes {@code live} now: a request to every node not yet closed, none once all are. */
  public List<Outbound> round(Set<NodeId> live) {
    waitingFor.retainAll(live);
    if (finishIfAllClosed()) {
      return List.of();
    }
    List<Outbound> out = new ArrayList<>(waitingFor.size());
    for (NodeId node : waitingFor) {
      out.add(new Outbound(node, Role.DISPATCHER_ORCHESTRATOR, request));
    }
    return out;
  }

  /**
   * A node's answer, already admitted as one to this close's epoch (a reply to an older close says nothing about
   * this one: {@link DispatcherReplies} drops it). {@code success=false} means it is still closing: a later round asks again.
   */
  public void onResponse(NodeId from, MaintainerCloseResponse response) {
    if (response.getSuccess() && waitingFor.remove(from)) {
      finishIfAllClosed();
    }
  }

  /** Every node asked has closed the changefeed's dispatcher manager or left. */
  public boolean closed() {
    return closed;
  }

  private boolean finishIfAllClosed() {
    if (!closed && waitingFor.isEmpty()) {
      closed = true;
      LOG.info("event=dispatcher_managers_closed changefeed={} epoch={}", changefeed, Epochs.format(request.getEpoch()));
    }
    return closed;
  }
}
