package io.feedline.node;

import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.postgresql.source.PostgresSourceSetup;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code feedline source}: what an upstream needs before changefeeds read it. */
@Command(name = "source", mixinStandardHelpOptions = true, description = "Prepare an upstream database for changefeeds.",
    subcommands = SourceCommand.Setup.class)
public final class SourceCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  /**
   * {@code feedline source setup --source URI [--apply]}: prints (or applies) the SQL that lets changefeeds
   * capture a PostgreSQL database's schema changes. A changefeed created by a superuser installs it itself;
   * one created with a replication role needs a superuser to run this first.
   */
  @Command(name = "setup", mixinStandardHelpOptions = true,
      description = "Print the SQL a superuser runs once per database so that changefeeds capture its schema changes "
          + "(tables created, altered and dropped); with --apply, run it with the URI's credentials.",
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:printed, or applied", "1:applying failed (the reason on stderr)", "2:bad input (one line on stderr)"})
  static final class Setup implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--source", required = true, description = "The changefeeds' source URI (postgresql://USER@HOST:PORT/DATABASE).")
    String source;

    @Option(names = "--apply", description = "Run the SQL with the URI's credentials (the user must be a superuser) instead of printing it.")
    boolean apply;

    @Option(names = "--role", description = "The role the changefeeds' source URIs log in as, granted what their streams use "
        + "(default: the URI's USER; give it when --apply runs with a superuser's URI).")
    String role;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      EndpointUri uri;
      try {
        uri = EndpointUri.parse("source", source);
        if (!uri.scheme().equals("postgresql")) {
          return fail(err, 2, "only a postgresql source needs a set-up; " + uri.scheme() + " sources are ready as they are");
        }
        String grantee = role != null ? role : uri.user();
        if (!apply) {
          out.print(PostgresSourceSetup.script(uri, System.getenv(), grantee));
          out.flush();
          return 0;
        }
        String database = PostgresSourceSetup.apply(uri, System.getenv(), grantee);
        out.println("applied: schema-change capture installed in database " + database + ", granted to role " + grantee);
        out.flush();
        return 0;
      } catch (IllegalArgumentException e) {
        // InvalidEndpointException is one: URI problems come with a redacted, actionable message.
        return fail(err, 2, e.getMessage());
      } catch (SQLException e) {
        return fail(err, 1, "cannot apply the set-up: " + e.getMessage() + " (run it as a superuser, or have one run the SQL that "
            + "feedline source setup --source URI prints)");
      }
    }

    private static int fail(PrintWriter err, int code, String reason) {
      err.println("feedline source setup: " + SinkUris.redact(String.valueOf(reason)));
      err.flush();
      return code;
    }
  }
}
