package io.feedline.node.bench;

import picocli.CommandLine.Option;

/** {@code --clustered} of the benchmarks that run a 3-node {@link BenchCluster} (a picocli mixin). */
public final class ClusteredOption {

  @Option(names = "--clustered", description = "A Vert.x per node, clustered over Hazelcast on loopback: messages are serialized "
      + "and cross sockets as between processes (needs --etcd).")
  boolean clustered;
}
