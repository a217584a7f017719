package io.feedline.dispatcher.check;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import java.util.ArrayList;
import java.util.List;

/**
 * What a changefeed over a {@code datagen} upstream must deliver in {@code (from, until]}: every DDL (the
 * trigger writes them all) and every row change of every table, in the file sink's line format. The
 * replay reads the model directly, which is what every subscription reads, so it is exactly what the
 * dispatchers were given.
 */
public final class DatagenReplay {

  /** (tick, table) pairs one replay may visit: keeps a mistaken window from running for hours. */
  public static final long MAX_WORK = 2_000_000_000L;

  private DatagenReplay() {}

  /** The datagen source a check replays, from its URI. */
  public static DatagenSpec spec(String uri) {
    EndpointUri parsed = EndpointUri.parse("source", uri);
    if (!parsed.scheme().equals("datagen")) {
      throw new CheckInputException("source URI '" + parsed + "': the checker replays datagen sources only");
    }
    return DatagenSpec.parse(parsed);
  }

  /**
   * @throws IllegalArgumentException when the window is too large to replay (give a later {@code from})
   */
  public static List<ChangeLine> events(DatagenSpec spec, long from, long until) {
    return changes(spec, from, until).stream().map(ChangeLine::of).toList();
  }

  /** As {@link #events}, the events themselves: for a checker that compares events, not the lines a file sink holds. */
  public static List<ChangeEvent> changes(DatagenSpec spec, long from, long until) {
    DatagenModel model = DatagenModel.of(spec);
    TickTimeline timeline = model.timeline();
    long last = timeline.lastTickAtOrBelow(spec.until() == 0 ? until : Math.min(until, spec.until()));
    long first = timeline.lastTickAtOrBelow(from) + 1;
    long ticks = Math.max(0, last - first + 1);
    if (ticks > MAX_WORK / model.tables()) {
      throw new IllegalArgumentException("replaying (" + from + ", " + until + "] means " + ticks + " ticks of " + model.tables()
          + " tables: too much; give a later --from");
    }
    List<ChangeEvent> out = new ArrayList<>();
    for (long tick = first; tick <= last; tick++) {
      DdlEvent ddl = model.ddlAt(tick);
      if (ddl != null) {
        out.add(ddl);
        continue; // a DDL tick carries no row change of any table
      }
      for (long table = 1; table <= model.tables(); table++) {
        out.addAll(model.rowsAt(table, tick));
      }
    }
    return out;
  }
}
