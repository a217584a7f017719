package io.feedline.node.cli;

import io.feedline.node.admin.AdminJson;
import io.feedline.proto.AdminGrpcClient;
import io.feedline.proto.DrainNodeRequest;
import io.feedline.proto.ListNodesRequest;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code feedline cli node ...}. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "List and drain nodes.")
final class NodeCommand implements Runnable {

  @ParentCommand
  CliCommand cli;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the nodes with their maintainer counts (dispatcher counts are not reported yet: 0).")
  int list() {
    return cli.call(spec, AdminGrpcClient.ListNodes, ListNodesRequest.getDefaultInstance(),
        r -> Tables.nodes(r.getNodesList()), r -> AdminJson.nodes(r.getNodesList()));
  }

  @Command(name = "drain", mixinStandardHelpOptions = true, description = "Move every maintainer and dispatcher off a node.")
  int drain(@Option(names = "--node", required = true, paramLabel = "NODE_ID") String node,
      @Option(names = "--no-wait", description = "Return once the drain started instead of when it finished.") boolean noWait) {
    return cli.call(spec, AdminGrpcClient.DrainNode, DrainNodeRequest.newBuilder().setNodeId(node).build(),
        r -> "draining " + node + ": " + r.getRemaining() + " remaining", r -> new JsonObject().put("remaining", r.getRemaining()));
  }
}
