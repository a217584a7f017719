package io.feedline.postgresql.source;

import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which upstream tables a changefeed captures, in the spirit of TiCDC's table filter: a comma-separated list
 * of {@code schema.table} patterns ({@code *} any run of characters, {@code ?} one), each optionally negated
 * with {@code !}. The last rule that matches a table decides; a table no rule matches is not captured. A
 * list of negations only starts from {@code public.*}, and so does no list at all: every table of schema
 * {@code public}. Names are matched as PostgreSQL stores them (unquoted identifiers are lower case).
 */
final class TableRules {

  static final String DEFAULT = "public.*";

  private record Rule(boolean include, Pattern pattern, String glob) {}

  private final List<Rule> rules;
  private final String text;

  private TableRules(List<Rule> rules, String text) {
    this.rules = rules;
    this.text = text;
  }

  /** @throws InvalidEndpointException when a rule is not {@code [!]schema.table} */
  static TableRules parse(String spec) {
    String text = spec == null || spec.isBlank() ? DEFAULT : spec.strip();
    List<Rule> rules = new ArrayList<>();
    for (String raw : text.split(",")) {
      String rule = raw.strip();
      boolean include = !rule.startsWith("!");
      String pattern = include ? rule : rule.substring(1).strip();
      int dot = pattern.indexOf('.');
      if (dot <= 0 || dot == pattern.length() - 1 || pattern.indexOf('.', dot + 1) >= 0) {
        throw new InvalidEndpointException("table rule '" + rule + "' is not [!]schema.table (e.g. public.*, !public.audit_*, app.orders)");
      }
      rules.add(new Rule(include, glob(pattern), pattern));
    }
    if (rules.stream().noneMatch(Rule::include)) {
      rules.add(0, new Rule(true, glob(DEFAULT), DEFAULT));
    }
    return new TableRules(List.copyOf(rules), text);
  }

  boolean captures(String schema, String table) {
    String name = schema + "." + table;
    boolean captured = false;
    for (Rule rule : rules) {
      if (rule.pattern.matcher(name).matches()) {
        captured = rule.include;
      }
    }
    return captured;
  }

  /**
   * The rules as PostgreSQL regular expressions of {@code schema.table}, in order, an exclusion with {@code !}
   * first: how the upstream's DDL trigger tells which tables a Feedline-owned publication must follow
   * ({@code feedline_capture.captures} in {@code capture-ddl.sql} applies them as {@link #captures} does).
   */
  List<String> asPostgresRegexes() {
    List<String> out = new ArrayList<>(rules.size());
    for (Rule rule : rules) {
      StringBuilder regex = new StringBuilder(rule.include ? "^" : "!^");
      for (char c : rule.glob.toCharArray()) {
        switch (c) {
          case '*' -> regex.append(".*");
          case '?' -> regex.append('.');
          // A backslash before any character that is not a letter or digit makes it literal.
          default -> regex.append(Character.isLetterOrDigit(c) ? String.valueOf(c) : "\\" + c);
        }
      }
      out.add(regex.append('$').toString());
    }
    return out;
  }

  @Override
  public String toString() {
    return text;
  }

  private static Pattern glob(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
