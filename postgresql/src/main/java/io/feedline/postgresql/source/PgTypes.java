package io.feedline.postgresql.source;

/**
 * The built-in type OIDs the source treats specially ({@code pg_type.dat}), and how a value in text form
 * becomes the Java value a row change carries: integers and booleans as numbers and booleans (so a file
 * sink writes JSON numbers), everything else as PostgreSQL's own text, which loses nothing (a PostgreSQL
 * sink casts it back to the column's type).
 */
final class PgTypes {

  static final int BOOL = 16;
  static final int INT8 = 20;
  static final int INT2 = 21;
  static final int INT4 = 23;
  static final int OID = 26;

  private PgTypes() {}

  static boolean isInteger(int typeOid) {
    return typeOid == INT2 || typeOid == INT4 || typeOid == INT8 || typeOid == OID;
  }

  static Object value(int typeOid, String text) {
    if (text == null) {
      return null;
    }
    return switch (typeOid) {
      case INT2, INT4 -> Integer.valueOf(text);
      case INT8, OID -> Long.valueOf(text);
      case BOOL -> text.startsWith("t");
      default -> text;
    };
  }
}
