package io.feedline.node.cli;

import io.feedline.proto.AdminGrpcClient;
import io.feedline.proto.ResignCoordinatorRequest;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code feedline cli coordinator ...}. */
@Command(name = "coordinator", mixinStandardHelpOptions = true, description = "Act on the coordinator.")
final class CoordinatorCommand implements Runnable {

  @ParentCommand
  CliCommand cli;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  @Command(name = "resign", mixinStandardHelpOptions = true, description = "Make the coordinator resign; another node is elected.")
  int resign() {
    return cli.call(spec, AdminGrpcClient.ResignCoordinator, ResignCoordinatorRequest.getDefaultInstance(),
        r -> "coordinator resigned", r -> new JsonObject().put("resigned", true));
  }
}
