package io.feedline.dispatcher.check;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A file sink compared with its datagen source replayed over {@code (from, until]}: by default from where
 * the sink's writers began up to the changefeed checkpoint the sink records. One entry point for the
 * {@code check} command and for the tests that end with "the output equals the replay".
 */
public final class FileSinkCheck {

  private FileSinkCheck() {}

  /** Compares; {@code from}/{@code until} default to what the sink records. A missing sink directory is an error. */
  public static CheckReport check(String sourceUri, String sinkUri, OptionalLong from, OptionalLong until) throws IOException {
    DatagenSpec datagen = DatagenReplay.spec(sourceUri);
    Path dir = fileSinkDir(sinkUri);
    FileSinkContent content = FileSinkContent.read(dir);
    long upTo = until.isPresent() ? until.getAsLong() : content.checkpoint().orElseThrow(
        () -> new CheckInputException("the sink at " + dir + " records no span checkpoint yet; give --until"));
    long after = from.isPresent() ? from.getAsLong() : content.since().orElse(0L);
    return compare(datagen, content, after, upTo);
  }

  /**
   * The check of a sink that never opened, known to the caller (a changefeed paused or cut off before its first
   * write, so its directory was never created): it holds nothing, which is right only if the replay of
   * {@code (from, until]} is empty too. A checkpoint that moved past events nothing wrote shows them as missing.
   */
  public static CheckReport checkNeverOpened(String sourceUri, long from, long until) {
    return compare(DatagenReplay.spec(sourceUri), new FileSinkContent(List.of(), List.of()), from, until);
  }

  private static CheckReport compare(DatagenSpec datagen, FileSinkContent content, long after, long upTo) {
    if (upTo < after) {
      throw new CheckInputException("--until " + upTo + " is below --from " + after);
    }
    List<ChangeLine> expected = DatagenReplay.events(datagen, after, upTo);
    return ConsistencyCheck.compare(expected, content.events(), after, upTo);
  }

  /** The local directory of a {@code file://} sink URI; anything else is a {@link CheckInputException}. */
  public static Path fileSinkDir(String uri) {
    EndpointUri parsed = EndpointUri.parse("sink", uri);
    if (!parsed.scheme().equals("file")) {
      throw new CheckInputException("sink URI '" + parsed + "': the checker reads file sinks only (file:///dir)");
    }
    parsed.requireOnlyParams("sink", Set.of());
    if (parsed.user() != null || parsed.password() != null) {
      throw new CheckInputException("sink URI '" + parsed + "': a file sink takes no user or password");
    }
    if (!parsed.path().startsWith("/") || (!parsed.host().isEmpty() && !parsed.host().equals("localhost"))) {
      throw new CheckInputException("sink URI '" + parsed + "' needs an absolute local directory, e.g. file:///var/feedline/out");
    }
    try {
      return Path.of(parsed.path());
    } catch (InvalidPathException e) {
      throw new CheckInputException("sink URI '" + parsed + "': not a usable path: " + e.getReason());
    }
  }
}
