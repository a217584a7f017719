package io.feedline.common.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A node's validated configuration. Built by the node runtime from the config file, then environment,
 * then command-line flags.
 *
 * @param host the address the admin API binds to and advertises
 * @param port the admin API port (0 = any free port)
 * @param dataDir where the embedded metastore and local state live
 * @param etcdEndpoints etcd client URLs; empty = the embedded single-node store
 * @param cluster join a Hazelcast cluster for the event bus (otherwise the local event bus)
 * @param clusterId namespaces every metastore key, so clusters can share one etcd
 * @param hazelcastConfig the Hazelcast XML used in cluster mode
 * @param clusterHost the address the clustered event bus binds to and advertises
 * @param scheduleBatch at most this many changefeeds the coordinator places per scheduling round
 * @param failedAfter a changefeed still failing this long after its first error stops retrying (failed)
 * @param adminToken bearer token the admin API demands; empty = none
 * @param adminTls TLS of the admin port, or {@link AdminTls#OFF}
 * @param dataPlane the data lanes and the memory quota of change events
 */
public record NodeConfig(
    String host,
    int port,
    Path dataDir,
    List<String> etcdEndpoints,
    boolean cluster,
    String clusterId,
    Path hazelcastConfig,
    String clusterHost,
    Timings timings,
    int scheduleBatch,
    Duration failedAfter,
    String adminToken,
    AdminTls adminTls,
    DataPlaneSettings dataPlane) {

  public static final int DEFAULT_SCHEDULE_BATCH = 1000;
  public static final Duration DEFAULT_FAILED_AFTER = Duration.ofMinutes(30);

  /** A config with the default coordinator policy. */
  public NodeConfig(String host, int port, Path dataDir, List<String> etcdEndpoints, boolean cluster, String clusterId,
      Path hazelcastConfig, String clusterHost, Timings timings) {
    this(host, port, dataDir, etcdEndpoints, cluster, clusterId, hazelcastConfig, clusterHost, timings,
        DEFAULT_SCHEDULE_BATCH, DEFAULT_FAILED_AFTER, "", AdminTls.OFF, DataPlaneSettings.DEFAULTS);
  }

  public NodeConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(timings, "timings");
    Objects.requireNonNull(adminToken, "adminToken");
    Objects.requireNonNull(adminTls, "adminTls");
    Objects.requireNonNull(dataPlane, "dataPlane");
    etcdEndpoints = List.copyOf(etcdEndpoints);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be within 0..65535, got " + port);
    }
    if (!clusterId.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException("cluster-id must be 1-64 letters, digits, '_' or '-', got '" + clusterId + "'");
    }
    for (String endpoint : etcdEndpoints) {
      if (!endpoint.matches("https?://[^/\\s]+/?")) {
        throw new IllegalArgumentException("etcd endpoint must look like http://host:port, got '" + endpoint + "'");
      }
    }
    if (scheduleBatch < 1) {
      throw new IllegalArgumentException("scheduler.batch-size must be at least 1, got " + scheduleBatch);
    }
    if (failedAfter.isNegative() || failedAfter.isZero()) {
      throw new IllegalArgumentException("changefeed.failed-after must be positive, got " + failedAfter.toMillis() + "ms");
    }
    if (cluster && etcdEndpoints.isEmpty()) {
      throw new IllegalArgumentException("cluster mode needs a shared metastore: give --etcd http://host:port (the embedded store is single-node)");
    }
  }

  /** The admin API demands {@code Authorization: Bearer <adminToken>} unless the token is empty. */
  public boolean adminAuthEnabled() {
    return !adminToken.isEmpty();
  }

  /** Like the record's, but never shows the admin token (configs get logged). */
  @Override
  public String toString() {
    return "NodeConfig[host=" + host + ", port=" + port + ", dataDir=" + dataDir + ", etcdEndpoints=" + etcdEndpoints
        + ", cluster=" + cluster + ", clusterId=" + clusterId + ", hazelcastConfig=" + hazelcastConfig + ", clusterHost=" + clusterHost
        + ", timings=" + timings + ", scheduleBatch=" + scheduleBatch + ", failedAfter=" + failedAfter
        + ", adminToken=" + (adminToken.isEmpty() ? "<none>" : "<redacted>") + ", adminTls=" + adminTls + ", dataPlane=" + dataPlane + "]";
  }

  public boolean embeddedStore() {
    return etcdEndpoints.isEmpty();
  }
}
