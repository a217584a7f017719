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

  public static HazelcastClusterManager clusterManager(Config config) {
    return new HazelcastClusterManager(config);
  }
}
