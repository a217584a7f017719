package io.feedline.coordinator;

import io.feedline.common.config.NodeConfig;
import java.time.Duration;

/**
 * The coordinator's knobs.
 *
 * @param scheduleBatch at most this many changefeeds placed per scheduling round
 * @param balanceMoves at most this many moves per balance round
 * @param retryInitial first backoff after a changefeed enters warning; doubles per retry
 * @param retryMax the backoff's ceiling
 * @param failedAfter a changefeed still in warning this long after the first error becomes failed
 */
public record CoordinatorSettings(
    Duration tick,
    Duration resendInterval,
    Duration balanceInterval,
    int scheduleBatch,
    int balanceMoves,
    Duration retryInitial,
    Duration retryMax,
    Duration failedAfter) {

  public static CoordinatorSettings from(NodeConfig config) {
    var t = config.timings();
    return new CoordinatorSettings(t.coordinatorTick(), t.resendInterval(), t.balanceInterval(), config.scheduleBatch(), 10,
        Duration.ofSeconds(10), Duration.ofMinutes(10), config.failedAfter());
  }
}
