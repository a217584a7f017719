package io.feedline.maintainer;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.feedline.common.fence.Fence;
import io.feedline.common.fence.FenceRejections;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlPayloads;
import io.feedline.common.messaging.FenceTokens;
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

  /** The changefeed a message from the dispatcher side is for, or null when it is not such a message. */
  public static String changefeedOf(Message payload) {
    return TYPES.contains(payload.getDescriptorForType()) ? FenceTokens.of(payload).getChangefeedId() : null;
  }

  /** Whether {@code payload}, from {@code from}, answers the maintainer of {@code changefeed} running here at {@code maintainerEpoch}. */
  public boolean admit(NodeId from, Message payload, ChangefeedId changefeed, long maintainerEpoch) {
    long replyEpoch = FenceTokens.of(payload).getEpoch();
    Fence replies = Fence.ownedBy(self, maintainerEpoch);
    return rejections.check(replies.admitReply(replyEpoch), changefeed.value(), ControlPayloads.typeOf(payload), from, replyEpoch, replies);
  }
}
