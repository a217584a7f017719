package io.feedline.coordinator;

import io.feedline.common.config.NodeConfig;
import io.feedline.coordinator.drain.DrainController;
import java.time.Duration;

/**
 * The coordinator's knobs.
 *
 * @param scheduleBatch at most this many changefeeds placed per scheduling round
 * @param balanceMoves at most this many moves per balance round
 * @param retryInitial first backoff after a changefeed enters warning; doubles per retry
 * @param retryMax the backoff's ceiling
 * @param failedAfter a changefeed still in warning this long after the first error becomes failed
 * @param drain resend intervals of the drain target and liveness commands, and the balance pause after a drain
 */
public record CoordinatorSettings(
    Duration tick,
    Duration resendInterval,
    Duration balanceInterval,
    int scheduleBatch,
    int balanceMoves,
    Duration retryInitial,
    Duration retryMax,
    Duration failedAfter,
    DrainController.Settings drain) {

  public static CoordinatorSettings from(NodeConfig config) {
    var t = config.timings();
    return new CoordinatorSettings(t.coordinatorTick(), t.resendInterval(), t.balanceInterval(), config.scheduleBatch(), 10,
        Duration.ofSeconds(10), Duration.ofMinutes(10), config.failedAfter(),
        new DrainController.Settings(t.drainTargetResend(), t.livenessResend(), t.drainBalanceCooldown()));
  }
}
