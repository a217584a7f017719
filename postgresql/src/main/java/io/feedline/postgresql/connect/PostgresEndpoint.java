package io.feedline.postgresql.connect;

import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed {@code postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?...]} URI: how to connect and where
 * Feedline writes. Parameters:
 * <ul>
 *   <li>{@code schema}: the schema the replicated tables live in (default {@code public});</li>
 *   <li>{@code sslmode}: as for {@code psql}: {@code disable}, {@code allow}, {@code prefer} (the default),
 *       {@code require} (encrypted, the server's certificate not checked), {@code verify-ca} (signed by
 *       {@code sslrootcert}), {@code verify-full} (also the host name);</li>
 *   <li>{@code sslrootcert}: a PEM file of the CA certificates to trust for {@code verify-*} (default: the
 *       JVM's trust store);</li>
 *   <li>{@code passwordFile}: a file whose first line is the password;</li>
 *   <li>{@code poolSize}: connections per changefeed per node (default 4): spans written in parallel.</li>
 * </ul>
 * The password comes from the URI, else {@code passwordFile}, else the environment's {@code PGPASSWORD}
 * (as for {@code psql}); none is fine for {@code trust} authentication. It is never part of
 * {@link #toString()}, of a log line or of an error.
 */
public final class PostgresEndpoint {

  public static final String DEFAULT_SCHEMA = "public";
  static final int DEFAULT_PORT = 5432;
  static final int DEFAULT_POOL_SIZE = 4;
  static final int MAX_POOL_SIZE = 64;
  static final String IDLE_IN_TRANSACTION_TIMEOUT = "10s";
  private static final Set<String> SINK_PARAMS = Set.of("schema", "sslmode", "sslrootcert", "passwordFile", "poolSize");
  /** A source's: how to connect, and what it captures (read by the source's own spec). */
  private static final Set<String> SOURCE_PARAMS = Set.of("sslmode", "sslrootcert", "passwordFile", "publication", "tables");
  private static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

  private final PgConnectOptions connect;
  private final String sslMode;
  private final String sslRootCert;
  private final String schema;
  private final int poolSize;
  private final String shown;

  private PostgresEndpoint(PgConnectOptions connect, String sslMode, String sslRootCert, String schema, int poolSize, String shown) {
    this.connect = connect;
    this.sslMode = sslMode;
    this.sslRootCert = sslRootCert;
    this.schema = schema;
    this.poolSize = poolSize;
    this.shown = shown;
  }

  /**
   * @param kind "sink" or "source": which parameters the URI may carry, and the word messages use
   * @param env where {@code PGPASSWORD} is looked up (the process environment in production)
   * @throws InvalidEndpointException with a message that names what is wrong and never the password
   */
  public static PostgresEndpoint parse(String kind, EndpointUri uri, Map<String, String> env) {
    uri.requireOnlyParams(kind, kind.equals("source") ? SOURCE_PARAMS : SINK_PARAMS);
    String shown = uri.toString();
    if (uri.user() == null || uri.user().isBlank()) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' needs a user: postgresql://USER@HOST/DATABASE");
    }
    String database = uri.path().startsWith("/") ? uri.path().substring(1) : uri.path();
    if (database.isBlank() || database.contains("/")) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "' needs a database: postgresql://USER@HOST[:PORT]/DATABASE");
    }
    HostPort hostPort = HostPort.parse(kind, shown, uri.host());
    PgConnectOptions options = new PgConnectOptions()
        .setHost(hostPort.host())
        .setPort(hostPort.port())
        .setDatabase(database)
        .setUser(uri.user())
        .setCachePreparedStatements(true)
        .setPipeliningLimit(256)
        .addProperty("application_name", "feedline")
        // A batch's transaction waits on this client only for one round trip before its COMMIT. A writer frozen
        // there (kill -STOP, a long GC) would hold the changefeed row's share lock, and so stall the next owner's
        // epoch raise, until it woke: the server ends such a session (and rolls its batch back) instead.
        .addProperty("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT);
    // No password at all is an empty one (trust and peer authentication need none): never the client's default.
    String password = password(kind, uri, env);
    options.setPassword(password == null ? "" : password);
    ssl(kind, shown, uri.params(), options);
    String schema = uri.params().getOrDefault("schema", DEFAULT_SCHEMA);
    if (schema.isBlank()) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "': schema must not be empty");
    }
    return new PostgresEndpoint(options, uri.params().getOrDefault("sslmode", "prefer").toLowerCase(Locale.ROOT), uri.params().get("sslrootcert"),
        schema, poolSize(kind, shown, uri.params().get("poolSize")), shown);
  }

  /** Connection settings, password included: hand them to the client only. */
  public PgConnectOptions connectOptions() {
    return new PgConnectOptions(connect);
  }

  /** A pool of {@link #poolSize()} connections to the database, on {@code vertx}'s event loops. */
  public Pool pool(Vertx vertx, String name) {
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(poolSize).setName(name)).connectingTo(connectOptions()).using(vertx).build();
  }

  /** {@code sslmode} as libpq spells it (what pgjdbc takes too). */
  public String sslMode() {
    return sslMode;
  }

  /** The PEM file of trusted CA certificates, or null for the JVM's trust store. */
  public String sslRootCert() {
    return sslRootCert;
  }

  /** The schema the replicated tables live in. */
  public String schema() {
    return schema;
  }

  public int poolSize() {
    return poolSize;
  }

  /** The URI with its secrets masked: safe to log. */
  @Override
  public String toString() {
    return shown;
  }

  private static String password(String kind, EndpointUri uri, Map<String, String> env) {
    if (uri.password() != null) {
      return uri.password();
    }
    String file = uri.params().get("passwordFile");
    if (file != null) {
      try {
        String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        int eol = text.indexOf('\n');
        return (eol >= 0 ? text.substring(0, eol) : text).stripTrailing();
      } catch (IOException | RuntimeException e) {
        throw new InvalidEndpointException(kind + " URI '" + uri + "': cannot read passwordFile " + file + ": " + e.getClass().getSimpleName());
      }
    }
    return env.get("PGPASSWORD");
  }

  private static void ssl(String kind, String shown, Map<String, String> params, PgConnectOptions options) {
    String mode = params.getOrDefault("sslmode", "prefer").toLowerCase(Locale.ROOT);
    if (!SSL_MODES.contains(mode)) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "': sslmode '" + mode + "' is not one of "
          + String.join(", ", SSL_MODES.stream().sorted().toList()));
    }
    String rootCert = params.get("sslrootcert");
    if (rootCert != null && !Files.isReadable(Path.of(rootCert))) {
      throw new InvalidEndpointException(kind + " URI '" + shown + "': sslrootcert " + rootCert + " is not a readable file");
    }
    ClientSSLOptions tls = new ClientSSLOptions();
    switch (mode) {
      case "disable" -> options.setSslMode(SslMode.DISABLE);
      case "allow", "prefer", "require" -> {
        // As libpq: encryption without checking who answers (unless a root certificate is given for require).
        options.setSslMode(SslMode.of(mode));
        if (rootCert != null && mode.equals("require")) {
          tls.setTrustOptions(new PemTrustOptions().addCertPath(rootCert)).setHostnameVerificationAlgorithm("");
        } else {
          tls.setTrustAll(true).setHostnameVerificationAlgorithm("");
        }
      }
      case "verify-ca" -> {
        options.setSslMode(SslMode.VERIFY_CA);
        tls.setHostnameVerificationAlgorithm("");
        if (rootCert != null) {
          tls.setTrustOptions(new PemTrustOptions().addCertPath(rootCert));
        }
      }
      default -> {
        options.setSslMode(SslMode.VERIFY_FULL);
        tls.setHostnameVerificationAlgorithm("HTTPS");
        if (rootCert != null) {
          tls.setTrustOptions(new PemTrustOptions().addCertPath(rootCert));
        }
      }
    }
    options.setSslOptions(tls);
  }

  private static int poolSize(String kind, String shown, String value) {
    if (value == null) {
      return DEFAULT_POOL_SIZE;
    }
    try {
      int size = Integer.parseInt(value);
      if (size >= 1 && size <= MAX_POOL_SIZE) {
        return size;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidEndpointException(kind + " URI '" + shown + "': poolSize must be a whole number from 1 to " + MAX_POOL_SIZE + ", not '" + value + "'");
  }

  /** {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}. */
  private record HostPort(String host, int port) {

    static HostPort parse(String kind, String shown, String authority) {
      if (authority.isBlank()) {
        throw new InvalidEndpointException(kind + " URI '" + shown + "' needs a host: postgresql://USER@HOST[:PORT]/DATABASE");
      }
      String host = authority;
      String port = null;
      if (authority.startsWith("[")) {
        int close = authority.indexOf(']');
        if (close < 0) {
          throw new InvalidEndpointException(kind + " URI '" + shown + "' has an unclosed '[' in its host");
        }
        host = authority.substring(1, close);
        if (close + 1 < authority.length()) {
          if (authority.charAt(close + 1) != ':') {
            throw new InvalidEndpointException(kind + " URI '" + shown + "' has text after its IPv6 host");
          }
          port = authority.substring(close + 2);
        }
      } else if (authority.indexOf(':') >= 0) {
        host = authority.substring(0, authority.indexOf(':'));
        port = authority.substring(authority.indexOf(':') + 1);
      }
      if (port == null) {
        return new HostPort(host, DEFAULT_PORT);
      }
      try {
        int p = Integer.parseInt(port);
        if (p >= 1 && p <= 65535) {
          return new HostPort(host, p);
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new InvalidEndpointException(kind + " URI '" + shown + "': port '" + port + "' is not a number from 1 to 65535");
    }
  }
}
