package io.feedline.postgresql.connect;

import io.vertx.pgclient.PgConnectOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGProperty;

/**
 * pgjdbc connections to an endpoint's database, for what the reactive client cannot do or where blocking is
 * fine: a source's replication and catalog, the checks and benchmarks. Every session is in UTC and ISO styles.
 */
public final class Jdbc {

  private static final List<String> SESSION = List.of("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, MDY'", "SET IntervalStyle = 'postgres'",
      "SET extra_float_digits = 3");

  private Jdbc() {}

  /**
   * @param replication a logical replication connection ({@code replication=database}); it also takes
   *     plain SQL in the simple query protocol, which is how a temporary slot is made on it
   */
  public static Connection connect(PostgresEndpoint endpoint, boolean replication) throws SQLException {
    PgConnectOptions o = endpoint.connectOptions();
    Properties props = new Properties();
    PGProperty.USER.set(props, o.getUser());
    if (o.getPassword() != null && !o.getPassword().isEmpty()) {
      PGProperty.PASSWORD.set(props, o.getPassword());
    }
    PGProperty.APPLICATION_NAME.set(props, replication ? "feedline-source" : "feedline");
    PGProperty.SSL_MODE.set(props, endpoint.sslMode());
    if (endpoint.sslRootCert() != null) {
      PGProperty.SSL_ROOT_CERT.set(props, endpoint.sslRootCert());
    }
    PGProperty.CONNECT_TIMEOUT.set(props, 10);
    // A black-holed server fails a read after this instead of hanging the reader's thread (and its slot) for good.
    PGProperty.SOCKET_TIMEOUT.set(props, 60);
    PGProperty.TCP_KEEP_ALIVE.set(props, true);
    if (replication) {
      PGProperty.REPLICATION.set(props, "database");
      PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
      PGProperty.PREFER_QUERY_MODE.set(props, "simple");
    }
    String host = o.getHost().contains(":") ? "[" + o.getHost() + "]" : o.getHost();
    Connection connection = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + o.getPort() + "/" + o.getDatabase(), props);
    if (!replication) {
      connection.setAutoCommit(true);
    }
    // Values travel as text, and some texts depend on the session (pgjdbc sends the JVM's time zone): every
    // node must spell a key alike, or a row's key bytes, and so its span, would differ between nodes.
    try (Statement s = connection.createStatement()) {
      for (String setting : SESSION) {
        s.execute(setting);
      }
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return connection;
  }
}
