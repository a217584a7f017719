package io.feedline.common.messaging;

/** The roles a node hosts; each listens on its own per-node event-bus address. */
public enum Role {
  COORDINATOR("coordinator"),
  MAINTAINER_MANAGER("maintainer-manager"),
  DISPATCHER_ORCHESTRATOR("dispatcher-orchestrator");

  private final String segment;

  Role(String segment) {
    this.segment = segment;
  }

  public String segment() {
    return segment;
  }
}
