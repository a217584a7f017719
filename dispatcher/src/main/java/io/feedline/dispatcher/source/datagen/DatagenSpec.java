package io.feedline.dispatcher.source.datagen;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import java.util.Set;

/**
 * {@code datagen://?tables=N&seed=S[&rate=R][&until=U][&lifetime=L]}. Commit timestamps are TSO timestamps
 * ({@code physical ms << 18 | logical}, see {@link TickTimeline}), like the changefeed start ts and the
 * checkpoints they are compared with.
 *
 * @param rate upstream ticks per second of the scheduler's (wall) clock: tick {@code k} is produced at
 *     millisecond {@code k * 1000 / rate} and committed at that time, so the upstream's head follows the
 *     clock, a changefeed started at a TSO ts "now" begins at the upstream's present, and a restarted node
 *     resumes where the clock is. 0 (the default) = unthrottled: the whole history is available at once and
 *     dispatchers read it as fast as they pull; its ticks are spaced one per millisecond in TSO space, so
 *     they run ahead of the wall clock (fine for benchmarks and finite runs with {@code until}).
 * @param until a TSO ts: the upstream produces nothing above it (0 = never stops); for finite runs
 * @param lifetime about how many ticks a table lives from its CREATE to its DROP ({@value #DEFAULT_LIFETIME} by
 *     default): a shorter one gives a DDL-dense history (the deterministic simulator's, which needs DDLs to land
 *     while ownership moves without paying for many tables)
 */
public record DatagenSpec(int tables, long seed, long rate, long until, long lifetime) {

  public static final long DEFAULT_LIFETIME = DatagenModel.DEFAULT_LIFETIME;
  /** Enough DDL slots for a CREATE, a TRUNCATE, an ADD COLUMN and a DROP apart, with rows between. */
  public static final long MIN_LIFETIME = 64;

  public static final int MAX_TABLES = 1_000_000;
  /** Keeps {@code now * rate} far from overflow. */
  public static final long MAX_RATE = 1_000_000;

  private static final Set<String> PARAMS = Set.of("tables", "seed", "rate", "until", "lifetime");

  /** A spec with the default table lifetime. */
  public DatagenSpec(int tables, long seed, long rate, long until) {
    this(tables, seed, rate, until, DEFAULT_LIFETIME);
  }

  public static DatagenSpec parse(EndpointUri uri) {
    uri.requireOnlyParams("source", PARAMS);
    if (!uri.host().isEmpty() || !uri.path().isEmpty()) {
      throw new InvalidEndpointException("source URI '" + uri + "': datagen takes only query parameters, e.g. datagen://?tables=100&seed=7");
    }
    String tables = uri.params().get("tables");
    if (tables == null) {
      throw new InvalidEndpointException("source URI '" + uri + "' needs tables=N (1.." + MAX_TABLES + ")");
    }
    return new DatagenSpec(
        (int) number(uri, "tables", tables, 1, MAX_TABLES),
        number(uri, "seed", uri.params().getOrDefault("seed", "0"), Long.MIN_VALUE, Long.MAX_VALUE),
        number(uri, "rate", uri.params().getOrDefault("rate", "0"), 0, MAX_RATE),
        number(uri, "until", uri.params().getOrDefault("until", "0"), 0, Long.MAX_VALUE),
        number(uri, "lifetime", uri.params().getOrDefault("lifetime", Long.toString(DEFAULT_LIFETIME)), MIN_LIFETIME, Integer.MAX_VALUE));
  }

  private static long number(EndpointUri uri, String name, String text, long min, long max) {
    long value;
    try {
      value = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new InvalidEndpointException("source URI '" + uri + "': " + name + " must be a whole number, got '" + text + "'");
    }
    if (value < min || value > max) {
      throw new InvalidEndpointException("source URI '" + uri + "': " + name + " must be within " + min + ".." + max + ", got " + value);
    }
    return value;
  }
}
