package io.feedline.common.node;

import io.feedline.common.config.NodeConfig;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.micrometer.core.instrument.MeterRegistry;

/** What every role verticle of a node is given: identity, config and the node's shared services. */
public record NodeContext(
    NodeId nodeId,
    long nodeEpoch,
    NodeConfig config,
    MetaStore store,
    MetaKeys keys,
    NodeSession session,
    ClusterMembership membership,
    ControlBus bus,
    MeterRegistry metrics) {}
