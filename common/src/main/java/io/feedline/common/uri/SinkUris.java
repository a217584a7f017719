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
      int authorityEnd = authorityStart;
      while (authorityEnd < out.length() && "/?#".indexOf(out.charAt(authorityEnd)) < 0) {
        authorityEnd++;
      }
      // The last '@' of the authority ends the user info: a password may itself contain '@'.
      int at = out.lastIndexOf('@', authorityEnd - 1);
      if (at >= authorityStart) {
        int colon = out.indexOf(':', authorityStart);
        if (colon >= 0 && colon < at) {
          out = out.substring(0, colon + 1) + MASK + out.substring(at);
        }
      }
    }
    return SECRET_PARAM.matcher(out).replaceAll("$1" + MASK);
  }
}
