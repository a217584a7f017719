package io.feedline.common.metastore;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;

/** The key layout of one cluster in the metastore: everything lives under {@code /feedline/<clusterId>/}. */
public final class MetaKeys {

  private final String root;

  public MetaKeys(String clusterId) {
    this.root = "/feedline/" + clusterId;
  }

  public String root() {
    return root;
  }

  /** Prefix of the node registrations, each bound to its node's session lease. */
  public String nodes() {
    return root + "/node/";
  }

  public String node(NodeId node) {
    return nodes() + node.value();
  }

  public String changefeedInfos() {
    return root + "/changefeed/info/";
  }

  public String changefeedInfo(ChangefeedId id) {
    return changefeedInfos() + id.value();
  }

  public String changefeedStatuses() {
    return root + "/changefeed/status/";
  }

  public String changefeedStatus(ChangefeedId id) {
    return changefeedStatuses() + id.value();
  }

  /** The coordinator election. */
  public String coordinatorElection() {
    return root + "/coordinator";
  }

  /** The timestamp oracle's persisted high-water window. */
  public String tsoWindow() {
    return root + "/tso/window";
  }

  /** The id of the node a key under {@link #nodes()} registers. */
  public NodeId nodeOf(String key) {
    if (!key.startsWith(nodes())) {
      throw new IllegalArgumentException("not a node key: " + key);
    }
    return NodeId.of(key.substring(nodes().length()));
  }
}
