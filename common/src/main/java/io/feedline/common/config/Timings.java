package io.feedline.common.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every protocol timing of DESIGN §10, configurable under {@code timings.*}. Defaults are the design's.
 */
public record Timings(
    Duration sessionTtl,
    Duration coordinatorTick,
    Duration resendInterval,
    Duration maintainerTick,
    Duration maintainerHeartbeat,
    Duration maintainerStatusForce,
    Duration dispatcherHeartbeat,
    Duration nodeHeartbeat,
    Duration drainTargetResend,
    Duration livenessResend,
    Duration balanceInterval,
    Duration drainBalanceCooldown) {

  /** The metastore rejects shorter sessions; a shorter TTL would also make GC pauses look like deaths. */
  public static final Duration MIN_SESSION_TTL = Duration.ofSeconds(5);

  public static final Timings DEFAULTS = new Timings(
      Duration.ofSeconds(10),
      Duration.ofMillis(500),
      Duration.ofMillis(500),
      Duration.ofMillis(100),
      Duration.ofMillis(200),
      Duration.ofSeconds(1),
      Duration.ofMillis(200),
      Duration.ofSeconds(5),
      Duration.ofSeconds(5),
      Duration.ofSeconds(1),
      Duration.ofSeconds(15),
      Duration.ofSeconds(30));

  /** The design's timings with the default pause of balancing after a drain. */
  public Timings(Duration sessionTtl, Duration coordinatorTick, Duration resendInterval, Duration maintainerTick,
      Duration maintainerHeartbeat, Duration maintainerStatusForce, Duration dispatcherHeartbeat, Duration nodeHeartbeat,
      Duration drainTargetResend, Duration livenessResend, Duration balanceInterval) {
    this(sessionTtl, coordinatorTick, resendInterval, maintainerTick, maintainerHeartbeat, maintainerStatusForce, dispatcherHeartbeat,
        nodeHeartbeat, drainTargetResend, livenessResend, balanceInterval, DEFAULTS.drainBalanceCooldown());
  }

  public Timings {
    if (sessionTtl.compareTo(MIN_SESSION_TTL) < 0) {
      throw new IllegalArgumentException("timings.session-ttl must be at least " + MIN_SESSION_TTL.toSeconds() + "s, got " + sessionTtl.toMillis() + "ms");
    }
    if (sessionTtl.toMillis() % 1000 != 0) {
      throw new IllegalArgumentException("timings.session-ttl must be whole seconds (leases have second granularity), got " + sessionTtl.toMillis() + "ms");
    }
    for (Map.Entry<String, Duration> e : asMap(sessionTtl, coordinatorTick, resendInterval, maintainerTick, maintainerHeartbeat,
        maintainerStatusForce, dispatcherHeartbeat, nodeHeartbeat, drainTargetResend, livenessResend, balanceInterval,
        drainBalanceCooldown).entrySet()) {
      if (e.getValue().isNegative() || e.getValue().isZero()) {
        throw new IllegalArgumentException("timings." + e.getKey() + " must be positive, got " + e.getValue().toMillis() + "ms");
      }
    }
  }

  /** The config keys (under {@code timings.}) with their values, in declaration order. */
  public Map<String, Duration> asMap() {
    return asMap(sessionTtl, coordinatorTick, resendInterval, maintainerTick, maintainerHeartbeat, maintainerStatusForce,
        dispatcherHeartbeat, nodeHeartbeat, drainTargetResend, livenessResend, balanceInterval, drainBalanceCooldown);
  }

  /** Builds timings from config keys; keys not given keep their defaults. */
  public static Timings fromMap(Map<String, Duration> values) {
    Map<String, Duration> v = new LinkedHashMap<>(DEFAULTS.asMap());
    for (String key : values.keySet()) {
      if (!v.containsKey(key)) {
        throw new IllegalArgumentException("unknown config key 'timings." + key + "' (known: " + String.join(", ", v.keySet()) + ")");
      }
    }
    v.putAll(values);
    return new Timings(v.get("session-ttl"), v.get("coordinator-tick"), v.get("resend-interval"), v.get("maintainer-tick"),
        v.get("maintainer-heartbeat"), v.get("maintainer-status-force"), v.get("dispatcher-heartbeat"), v.get("node-heartbeat"),
        v.get("drain-target-resend"), v.get("liveness-resend"), v.get("balance-interval"), v.get("drain-balance-cooldown"));
  }

  private static Map<String, Duration> asMap(Duration... values) {
    String[] keys = {"session-ttl", "coordinator-tick", "resend-interval", "maintainer-tick", "maintainer-heartbeat",
        "maintainer-status-force", "dispatcher-heartbeat", "node-heartbeat", "drain-target-resend", "liveness-resend", "balance-interval",
        "drain-balance-cooldown"};
    Map<String, Duration> m = new LinkedHashMap<>();
    for (int i = 0; i < keys.length; i++) {
      m.put(keys[i], values[i]);
    }
    return m;
  }
}
