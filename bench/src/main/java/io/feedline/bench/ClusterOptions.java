package io.feedline.bench;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --clustered} and {@code --upstream} of the benchmarks that run a {@link BenchCluster} (a picocli mixin). */
public final class ClusterOptions {

  @Option(names = "--clustered", description = "A Vert.x per node, clustered over Hazelcast on loopback: messages are serialized "
      + "and cross sockets as between processes (needs --etcd).")
  boolean clustered;

  @Option(names = "--upstream", defaultValue = "IDLE",
      description = "Datagen upstream while measuring: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
  BenchCluster.Upstream upstream;

  @Spec(Spec.Target.MIXEE)
  CommandSpec bench;

  /** Refuses {@code --clustered} without {@code --etcd} as a usage error: clustered nodes each need a client of one store. */
  void requireStoreFor(String etcd) {
    if (clustered && etcd == null) {
      throw new ParameterException(bench.commandLine(), "--clustered needs --etcd URL: clustered nodes each have a metastore client of their own");
    }
  }
}
