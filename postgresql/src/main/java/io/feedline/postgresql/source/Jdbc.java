package io.feedline.postgresql.source;

import io.feedline.postgresql.connect.PostgresEndpoint;
import io.vertx.pgclient.PgConnectOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.PGProperty;

/** pgjdbc connections to a source's database: plain ones for the catalog and set-up, and replication ones. */
final class Jdbc {

  private Jdbc() {}

  /**
   * @param replication a logical replication connection ({@code replication=database}); it also takes
   *     plain SQL in the simple query protocol, which is how a temporary slot is made on it
   */
  static Connection connect(PostgresEndpoint endpoint, boolean replication) throws SQLException {
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
    return connection;
  }
}
