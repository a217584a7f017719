package io.feedline.node;

import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.check.CheckInputException;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.ConsistencyCheck;
import io.feedline.dispatcher.check.FileSinkCheck;
import io.feedline.dispatcher.check.TableStateCheck;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.postgresql.check.PostgresSinkCheck;
import io.feedline.postgresql.check.PostgresTablesCheck;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline check}: compares a sink's content with its source replayed over {@code (from, until]}.
 * A file sink's events are compared with the replay's ({@link ConsistencyCheck}: what is compared and how
 * replays are de-duplicated); a PostgreSQL sink's tables with the replay's final state at the checkpoints
 * recorded with them ({@link TableStateCheck}). Offline: it reads the sink and replays the source itself,
 * no server needed. A PostgreSQL source is not replayed: its captured tables are compared with the PostgreSQL
 * sink's as both databases hold them now ({@link PostgresTablesCheck}), once the changefeed has caught up.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Compare a sink's content with the source replayed to a timestamp; print the differences.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the sink equals the source", "1:differences (printed)", "2:bad input (one line on stderr)"})
public final class CheckCommand implements Callable<Integer> {

  static final int EQUAL = 0;
  static final int DIFFERENT = 1;
  static final int BAD_INPUT = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--source", required = true, description = "The changefeed's source URI (datagen://?tables=N&seed=S...).")
  String source;

  @Option(names = "--sink", required = true, description = "The changefeed's sink URI (file:///dir or postgresql://...).")
  String sink;

  @Option(names = "--changefeed", description = "For a PostgreSQL sink: whose checkpoints to use, when several changefeeds "
      + "wrote to its schema.")
  String changefeed;

  @Option(names = "--until", description = "Compare up to this TSO ts (default: for a file sink the changefeed checkpoint it "
      + "records, the minimum over its live span checkpoints; for a PostgreSQL sink each span's own recorded checkpoint).")
  Long until;

  @Option(names = "--from", description = "Compare above this TSO ts (default: where the sink's table trigger began, "
      + "the lowest start recorded for any span).")
  Long from;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      OptionalLong after = from == null ? OptionalLong.empty() : OptionalLong.of(from);
      OptionalLong upTo = until == null ? OptionalLong.empty() : OptionalLong.of(until);
      boolean postgresSink = EndpointUri.parse("sink", sink).scheme().equals("postgresql");
      CheckReport report;
      if (EndpointUri.parse("source", source).scheme().equals("postgresql")) {
        if (!postgresSink) {
          return bad(err, "a postgresql source is checked against a postgresql sink only (the tables of both are compared)");
        }
        report = PostgresTablesCheck.check(source, sink, System.getenv());
      } else {
        report = postgresSink ? PostgresSinkCheck.check(source, sink, Optional.ofNullable(changefeed), after, upTo, System.getenv())
            : FileSinkCheck.check(source, sink, after, upTo);
      }
      out.print(report.render());
      out.flush();
      return report.equal() ? EQUAL : DIFFERENT;
    } catch (CheckInputException | IllegalArgumentException e) {
      // InvalidEndpointException is one: URI problems come with a redacted, actionable message.
      return bad(err, e.getMessage());
    } catch (IOException e) {
      return bad(err, "cannot read the sink: " + e.getMessage());
    }
  }

  private static int bad(PrintWriter err, String reason) {
    err.println("feedline check: " + SinkUris.redact(String.valueOf(reason)));
    err.flush();
    return BAD_INPUT;
  }
}
