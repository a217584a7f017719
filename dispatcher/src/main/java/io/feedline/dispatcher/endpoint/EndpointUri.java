package io.feedline.dispatcher.endpoint;

import io.feedline.common.uri.SinkUris;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A parsed source or sink URI: {@code scheme://[user[:password]@][host[:port]][/path][?k=v&...]}.
 * Schemes like {@code datagen://?tables=3} have an empty authority, which {@link java.net.URI} rejects,
 * hence this small parser.
 *
 * <p>Sink URIs may carry credentials: {@link #toString()} and every error message use
 * {@link SinkUris#redact(String)}, and the raw text is never exposed.
 */
public final class EndpointUri {

  private static final Pattern SCHEME = Pattern.compile("[a-z][a-z0-9+.-]*");

  private final String scheme;
  private final String user;
  private final String password;
  private final String host;
  private final String path;
  private final Map<String, String> params;
  private final String redacted;

  private EndpointUri(String scheme, String user, String password, String host, String path, Map<String, String> params, String redacted) {
    this.scheme = scheme;
    this.user = user;
    this.password = password;
    this.host = host;
    this.path = path;
    this.params = params;
    this.redacted = redacted;
  }

  /**
   * Parses {@code raw}.
   *
   * @param kind what the URI is for ("source", "sink"), used in error messages
   * @throws InvalidEndpointException with a redacted, actionable message
   */
  public static EndpointUri parse(String kind, String raw) {
    if (raw == null || raw.isBlank()) {
      throw new InvalidEndpointException(kind + " URI is empty: give one like blackhole:// or file:///path");
    }
    String shown = SinkUris.redact(raw);
    int sep = raw.indexOf("://");
    if (sep <= 0) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' must look like scheme://..., e.g. file:///tmp/out");
    }
    String scheme = raw.substring(0, sep).toLowerCase(Locale.ROOT);
    if (!SCHEME.matcher(scheme).matches()) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' has an invalid scheme");
    }
    String rest = raw.substring(sep + 3);
    if (rest.indexOf('#') >= 0) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' must not have a fragment ('#')");
    }
    int q = rest.indexOf('?');
    String hierarchical = q >= 0 ? rest.substring(0, q) : rest;
    String query = q >= 0 ? rest.substring(q + 1) : "";
    int slash = hierarchical.indexOf('/');
    String authority = slash >= 0 ? hierarchical.substring(0, slash) : hierarchical;
    String path = slash >= 0 ? hierarchical.substring(slash) : "";
    String user = null;
    String password = null;
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = authority.substring(0, at);
      authority = authority.substring(at + 1);
      int colon = userInfo.indexOf(':');
      user = decode(kind, shown, colon >= 0 ? userInfo.substring(0, colon) : userInfo);
      password = colon >= 0 ? decode(kind, shown, userInfo.substring(colon + 1)) : null;
    }
    Map<String, String> params = new LinkedHashMap<>();
    if (!query.isEmpty()) {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(kind, shown, eq >= 0 ? pair.substring(0, eq) : pair);
        String value = eq >= 0 ? decode(kind, shown, pair.substring(eq + 1)) : "";
        if (key.isEmpty()) {
          throw new InvalidEndpointException(kind + " URI '" + shown + "' has a query parameter without a name");
        }
        if (params.put(key, value) != null) {
          throw new InvalidEndpointException(kind + " URI '" + shown + "' gives parameter '" + key + "' twice");
        }
      }
    }
    return new EndpointUri(scheme, user, password, decode(kind, shown, authority), decode(kind, shown, path),
        Map.copyOf(params), shown);
  }

  private static String decode(String kind, String shown, String text) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' has a malformed %-escape");
    }
  }

  public String scheme() {
    return scheme;
  }

  /** The user of the user info, or null. */
  public String user() {
    return user;
  }

  /** The password of the user info, or null. Never log it. */
  public String password() {
    return password;
  }

  /** The host (with port, if any); empty when the URI has no authority. */
  public String host() {
    return host;
  }

  public String path() {
    return path;
  }

  public Map<String, String> params() {
    return params;
  }

  /** Rejects parameters a provider does not know, so a typo is an error rather than a silent default. */
  public void requireOnlyParams(String kind, Set<String> known) {
    for (String key : params.keySet()) {
      if (!known.contains(key)) {
        throw new InvalidEndpointException(kind + " URI '" + redacted + "' has unknown parameter '" + key + "'"
            + (known.isEmpty() ? " (it takes none)" : " (known: " + String.join(", ", known.stream().sorted().toList()) + ")"));
      }
    }
  }

  /** The redacted form: safe to log. */
  @Override
  public String toString() {
    return redacted;
  }
}
