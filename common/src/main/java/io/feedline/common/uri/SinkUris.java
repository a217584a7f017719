package io.feedline.common.uri;

import java.util.regex.Pattern;

/**
 * Sink (and source) URIs may carry credentials, in the user info ({@code mysql://user:pass@host}) or in
 * query parameters ({@code ?password=...}). Anything that logs a URI or puts it in an error message
 * passes it through {@link #redact} first.
 */
public final class SinkUris {

  /** The text that replaces a secret. */
  public static final String MASK = "***";

  /** Query parameters whose name suggests a credential; over-redacting a harmless one costs nothing. */
  private static final Pattern SECRET_PARAM =
      Pattern.compile("(?i)([?&][^=&#]*(?:pass|pwd|secret|token|credential|auth|key)[^=&#]*=)[^&#]*");

  private SinkUris() {}

  private static boolean noneOf(String text, int from, int to, String chars) {
    for (int i = from; i < to; i++) {
      if (chars.indexOf(text.charAt(i)) >= 0) {
        return false;
      }
    }
    return true;
  }

  /** Whether the text at {@code from} is a port: digits up to the path, query or the end. */
  private static boolean isPort(String text, int from) {
    int i = from;
    while (i < text.length() && Character.isDigit(text.charAt(i))) {
      i++;
    }
    return i > from && (i == text.length() || "/?#".indexOf(text.charAt(i)) >= 0);
  }

  /**
   * {@code uri} with the password of its user info and the values of secret-looking query parameters
   * replaced by {@value #MASK}; the user name stays, so the line still says who connects. Works on text
   * that is not a well-formed URI, so error paths can use it too. Null gives the empty string.
   */
  public static String redact(String uri) {
    if (uri == null) {
      return "";
    }
    String out = uri;
    int sep = out.indexOf("://");
    if (sep > 0) {
      int authorityStart = sep + 3;
      // The user info ends at the last '@' (a password may itself contain '@'), and is looked for past the
      // authority too: a password with an unescaped '/', '?' or '#' in it would otherwise end the authority
      // early and show. Over-masking a harmless URI costs nothing; a port (digits up to the path) is no password.
      int colon = out.indexOf(':', authorityStart);
      int at = out.lastIndexOf('@');
      if (colon >= 0 && at > colon && noneOf(out, authorityStart, colon, "/?#@") && !isPort(out, colon + 1)) {
        out = out.substring(0, colon + 1) + MASK + out.substring(at);
      }
    }
    return SECRET_PARAM.matcher(out).replaceAll("$1" + MASK);
  }
}
