package io.feedline.node.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The Hazelcast cluster manager of the clustered event bus, from the node's Hazelcast XML. */
public final class HazelcastSetup {

  private HazelcastSetup() {}

  public static Config load(Path xml) {
    if (!Files.isRegularFile(xml)) {
      throw new IllegalArgumentException("hazelcast-config " + xml + " does not exist");
    }
    try {
      return new FileSystemXmlConfig(xml.toFile());
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException("hazelcast-config " + xml + " cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * The cluster manager for the Feedline cluster {@code clusterId}. The Hazelcast cluster name gets the
   * id appended: two Feedline clusters on the same hosts (or two test runs on one machine) otherwise find
   * each other through the loopback member list and merge their event buses, and then a node would take
   * control messages addressed to a namesake in the other cluster.
   */
  public static HazelcastClusterManager clusterManager(Config config, String clusterId) {
    config.setClusterName(config.getClusterName() + "." + clusterId);
    return new HazelcastClusterManager(config);
  }
}
