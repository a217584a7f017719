package io.feedline.node;

import io.vertx.core.Future;

/** What the tests that run one node runtime share. */
public final class TestNodes {

  private TestNodes() {}

  /**
   * Stops the node {@code starting} yields, also one still starting when its test ended (timed out): it would keep
   * running, and its Hazelcast member could join the next test's cluster. Nothing to stop if it never started.
   */
  public static Future<Void> stop(Future<NodeRuntime> starting) {
    return starting == null ? Future.succeededFuture() : starting.transform(ar -> ar.succeeded() ? ar.result().stop() : Future.succeededFuture());
  }
}
