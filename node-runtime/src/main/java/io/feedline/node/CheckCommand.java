package io.feedline.node;

import io.feedline.common.uri.SinkUris;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.ConsistencyCheck;
import io.feedline.dispatcher.check.DatagenReplay;
import io.feedline.dispatcher.check.FileSinkContent;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code feedline check}: compares a sink's content with its source replayed over {@code (from, until]}
 * (see {@link ConsistencyCheck} for what is compared and how replays are de-duplicated). Offline: it reads
 * the sink's files and replays the source itself, no server needed.
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

  @Option(names = "--sink", required = true, description = "The changefeed's sink URI (file:///dir).")
  String sink;

  @Option(names = "--until", description = "Compare up to this TSO ts (default: the changefeed checkpoint the sink records, "
      + "the minimum over its live span checkpoints).")
  Long until;

  @Option(names = "--from", description = "Compare above this TSO ts (default: where the sink's table trigger began, "
      + "the lowest start recorded for any span).")
  Long from;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      DatagenSpec datagen = datagen(source);
      Path dir = fileSinkDir(sink);
      FileSinkContent content = FileSinkContent.read(dir);
      long upTo = until != null ? until : content.checkpoint().orElseThrow(
          () -> new BadInput("the sink at " + dir + " records no span checkpoint yet; give --until"));
      long after = from != null ? from : content.since().orElse(0L);
      if (upTo < after) {
        throw new BadInput("--until " + upTo + " is below --from " + after);
      }
      List<JsonObject> expected = DatagenReplay.events(datagen, after, upTo);
      CheckReport report = ConsistencyCheck.compare(expected, content.events(), after, upTo);
      out.print(report.render());
      out.flush();
      return report.equal() ? EQUAL : DIFFERENT;
    } catch (BadInput | IllegalArgumentException e) {
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

  private static DatagenSpec datagen(String uri) {
    EndpointUri parsed = EndpointUri.parse("source", uri);
    if (!parsed.scheme().equals("datagen")) {
      throw new BadInput("source URI '" + parsed + "': the checker replays datagen sources only");
    }
    return DatagenSpec.parse(parsed);
  }

  private static Path fileSinkDir(String uri) {
    EndpointUri parsed = EndpointUri.parse("sink", uri);
    if (!parsed.scheme().equals("file")) {
      throw new BadInput("sink URI '" + parsed + "': the checker reads file sinks only (file:///dir)");
    }
    parsed.requireOnlyParams("sink", Set.of());
    if (parsed.user() != null || parsed.password() != null) {
      throw new BadInput("sink URI '" + parsed + "': a file sink takes no user or password");
    }
    if (!parsed.path().startsWith("/") || (!parsed.host().isEmpty() && !parsed.host().equals("localhost"))) {
      throw new BadInput("sink URI '" + parsed + "' needs an absolute local directory, e.g. file:///var/feedline/out");
    }
    try {
      return Path.of(parsed.path());
    } catch (InvalidPathException e) {
      throw new BadInput("sink URI '" + parsed + "': not a usable path: " + e.getReason());
    }
  }

  /** Input the check cannot work with; reported as one line, exit 2. */
  private static final class BadInput extends RuntimeException {
    BadInput(String message) {
      super(message, null, false, false);
    }
  }
}
