package io.feedline.common.messaging;

import io.feedline.common.id.NodeId;

/** Where one control message goes: sender node, receiver node and receiving role. */
public record Route(NodeId from, NodeId to, Role role) {}
