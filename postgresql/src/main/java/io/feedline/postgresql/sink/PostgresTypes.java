package io.feedline.postgresql.sink;

import io.feedline.dispatcher.sink.UnwritableSchemaException;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Upstream SQL types (as MySQL, PostgreSQL or the generator spell them) to PostgreSQL column types. A type
 * with no sensible counterpart is refused rather than guessed: a wrong guess would corrupt data silently.
 */
final class PostgresTypes {

  private static final Pattern TYPE = Pattern.compile("^\\s*([a-z][a-z0-9 _]*?)\\s*(\\(\\s*[0-9]+\\s*(?:,\\s*[0-9]+\\s*)?\\))?\\s*((?:\\[\\])*)\\s*$");

  /** Base names to the PostgreSQL spelling; {@code true} in {@link #TAKES_ARGUMENTS} keeps a length/precision. */
  private static final Map<String, String> BASE = Map.ofEntries(
      Map.entry("bigint", "bigint"), Map.entry("int8", "bigint"), Map.entry("int64", "bigint"), Map.entry("bigserial", "bigint"),
      Map.entry("int", "integer"), Map.entry("integer", "integer"), Map.entry("int4", "integer"), Map.entry("mediumint", "integer"),
      Map.entry("serial", "integer"),
      Map.entry("smallint", "smallint"), Map.entry("int2", "smallint"), Map.entry("tinyint", "smallint"), Map.entry("smallserial", "smallint"),
      Map.entry("boolean", "boolean"), Map.entry("bool", "boolean"),
      Map.entry("real", "real"), Map.entry("float4", "real"),
      Map.entry("double", "double precision"), Map.entry("double precision", "double precision"), Map.entry("float8", "double precision"),
      Map.entry("float", "double precision"),
      Map.entry("decimal", "numeric"), Map.entry("numeric", "numeric"),
      Map.entry("varchar", "character varying"), Map.entry("character varying", "character varying"),
      Map.entry("char", "character"), Map.entry("character", "character"), Map.entry("bpchar", "character"),
      Map.entry("text", "text"), Map.entry("string", "text"), Map.entry("tinytext", "text"), Map.entry("mediumtext", "text"),
      Map.entry("longtext", "text"),
      Map.entry("bytea", "bytea"), Map.entry("blob", "bytea"), Map.entry("tinyblob", "bytea"), Map.entry("mediumblob", "bytea"),
      Map.entry("longblob", "bytea"), Map.entry("binary", "bytea"), Map.entry("varbinary", "bytea"),
      Map.entry("date", "date"),
      Map.entry("time", "time without time zone"), Map.entry("time without time zone", "time without time zone"),
      Map.entry("timetz", "time with time zone"), Map.entry("time with time zone", "time with time zone"),
      Map.entry("timestamp", "timestamp without time zone"), Map.entry("datetime", "timestamp without time zone"),
      Map.entry("timestamp without time zone", "timestamp without time zone"),
      Map.entry("timestamptz", "timestamp with time zone"), Map.entry("timestamp with time zone", "timestamp with time zone"),
      Map.entry("json", "json"), Map.entry("jsonb", "jsonb"), Map.entry("uuid", "uuid"), Map.entry("interval", "interval"),
      Map.entry("inet", "inet"), Map.entry("cidr", "cidr"), Map.entry("macaddr", "macaddr"), Map.entry("xml", "xml"),
      Map.entry("money", "money"), Map.entry("oid", "oid"));

  private static final java.util.Set<String> TAKES_ARGUMENTS = java.util.Set.of("numeric", "character varying", "character");

  private PostgresTypes() {}

  /**
   * The PostgreSQL type for {@code upstreamType}, e.g. {@code VARCHAR(24)} to {@code character varying(24)}.
   *
   * @throws UnwritableSchemaException when there is none; {@code where} says which column
   */
  static String toPostgres(String upstreamType, String where) {
    Matcher m = TYPE.matcher(upstreamType.toLowerCase(Locale.ROOT));
    String base = m.matches() ? BASE.get(m.group(1).trim().replaceAll("\\s+", " ")) : null;
    if (base == null) {
      throw new UnwritableSchemaException(where + ": the upstream type '" + upstreamType + "' has no PostgreSQL counterpart");
    }
    String args = m.group(2) == null || !TAKES_ARGUMENTS.contains(base) ? "" : m.group(2).replace(" ", "");
    return base + args + m.group(3);
  }

  /**
   * The type without its length or precision ({@code timestamp(3) without time zone} to {@code timestamp
   * without time zone}): to compare a mapped type with a downstream column's, and to cast values with (an
   * explicit cast to {@code character varying(24)} would cut a longer string silently; the column's own
   * check on assignment refuses it).
   */
  static String baseOf(String postgresType) {
    String base = postgresType.replaceAll("\\([^)]*\\)", "").replaceAll("\\s+", " ").replace(" [", "[").trim();
    return base.startsWith("bpchar") ? "character" + base.substring("bpchar".length()) : base;
  }
}
