package io.feedline.postgresql.sql;

import java.math.BigDecimal;
import java.util.HexFormat;

/** Identifiers and values as PostgreSQL reads them in text form. */
public final class SqlText {

  private SqlText() {}

  /** A quoted identifier: case and any character kept, a quote doubled. */
  public static String ident(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** A string literal (with {@code standard_conforming_strings}, PostgreSQL's default: only a quote is doubled). */
  public static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  public static String qualified(String schema, String table) {
    return ident(schema) + "." + ident(table);
  }

  /**
   * A column value in PostgreSQL's text input form (rows travel as {@code text[]} arrays and are cast to
   * each column's type by the statement, so one statement shape serves every batch size and type).
   */
  public static String value(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof byte[] bytes) {
      return "\\x" + HexFormat.of().formatHex(bytes);
    }
    if (v instanceof BigDecimal d) {
      return d.toPlainString();
    }
    if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
      return d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
    }
    if (v instanceof Float f && (f.isNaN() || f.isInfinite())) {
      return value(f.doubleValue());
    }
    return v.toString();
  }
}
