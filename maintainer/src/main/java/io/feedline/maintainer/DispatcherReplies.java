package io.feedline.maintainer;

import com.google.protobuf.Descriptors.Descriptor;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;

/**
 * The one door of a node's maintainers for what the dispatcher side sends them. Each of these messages
 * answers a request a maintainer sent at its own epoch (a bootstrap, a post-bootstrap, a close, the epoch a
 * dispatcher manager was bootstrapped at), so only those carrying exactly the epoch of the maintainer that
 * runs the changefeed here pass; any other is counted and logged once, and the maintainer never sees it —
 * whatever kind of maintainer it is (a changefeed's or a remove-only one).
 */
public final class DispatcherReplies {

  /** The dispatcher side's messages, all fenced by the epoch they answer. */
  public static final List<Descriptor> TYPES = List.of(MaintainerCloseResponse.getDescriptor(), MaintainerBootstrapResponse.getDescriptor(),
      MaintainerPostBootstrapResponse.getDescriptor(), DispatcherHeartbeat.getDescriptor(), BlockStatusRequest.getDescriptor());

  private final NodeId self;
  private final FenceRejections rejections;

  public DispatcherReplies(NodeId self, MeterRegistry metrics) {
    this.self = self;
    this.rejections = new FenceRejections("maintainer", metrics, TYPES);
  }

  /** The changefeed a message from the dispatcher side is for (its token's), or null when it is not such a message. */
  public static String changefeedOf(Inbound in) {
    return TYPES.contains(in.payload().getDescriptorForType()) ? in.fence().getChangefeedId() : null;
  }

  /** Whether {@code in} answers the maintainer of {@code changefeed} running here at {@code maintainerEpoch}. */
  public boolean admit(Inbound in, ChangefeedId changefeed, long maintainerEpoch) {
    long replyEpoch = in.fence().getEpoch();
    Fence replies = Fence.ownedBy(self, maintainerEpoch);
    return rejections.check(replies.admitReply(replyEpoch), changefeed.value(), in.type(), in.from(), replyEpoch, replies);
  }
}
