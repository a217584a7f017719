package io.feedline.node;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar feedline.jar <command>}: the one entry point of the fat jar. */
@Command(
    name = "feedline",
    mixinStandardHelpOptions = true,
    version = "feedline " + NodeRuntime.VERSION,
    description = "Feedline: the control plane of a change-data-capture replication cluster.",
    subcommands = {ServerCommand.class, io.feedline.node.cli.CliCommand.class, BenchLauncher.class, SimulateLauncher.class,
        CheckCommand.class, SourceCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine main = new CommandLine(new Main());
    withVersion(main, main.getCommandSpec().version());
    // Everything after `bench` or `simulate` is the companion jar's to parse, in the JVM that runs it.
    main.getSubcommands().values().stream().filter(sub -> sub.getCommand() instanceof CompanionLauncher)
        .forEach(sub -> sub.setStopAtUnmatched(true));
    return main;
  }

  /** Subcommands get -V from the standard help options but no text of their own: give them the jar's. */
  private static void withVersion(CommandLine command, String[] version) {
    command.getSubcommands().values().forEach(sub -> {
      sub.getCommandSpec().version(version);
      withVersion(sub, version);
    });
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }
}
