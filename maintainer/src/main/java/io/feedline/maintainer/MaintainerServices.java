package io.feedline.maintainer;

import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.time.Scheduler;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What a maintainer on this node works with, all bound to the maintainer manager's context.
 *
 * @param self this node
 * @param outbox sends control messages
 * @param scheduler time and timers on the manager's context
 * @param resendInterval how often an unacknowledged request is sent again
 * @param liveNodes the nodes currently registered in the cluster (this one included)
 */
public record MaintainerServices(
    NodeId self, Outbox outbox, Scheduler scheduler, Duration resendInterval, Supplier<Set<NodeId>> liveNodes) {}
