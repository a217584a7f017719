package io.feedline.node.admin;

import io.feedline.common.config.AdminTls;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;

/**
 * How the admin port is spoken, server and client side in one place so that they agree: HTTP/2 (gRPC)
 * and HTTP/1.1 (JSON, health, metrics) on one port, either in clear text or, with TLS, negotiated by ALPN.
 * A TLS port accepts no clear-text connection at all (health and metrics included).
 */
public final class AdminTransport {

  /**
   * What a client of the admin port does about TLS.
   *
   * @param tls connect with TLS
   * @param trustedCerts PEM certificates the server's certificate must chain to; null = the JVM's trust store
   * @param skipVerify accept any certificate and host name (self-signed certificates in development only)
   */
  public record ClientTls(boolean tls, Path trustedCerts, boolean skipVerify) {

    public static final ClientTls PLAIN = new ClientTls(false, null, false);

    /** How a node reaches another node's admin port (forwarding): as its own port is configured. */
    public static ClientTls forNode(AdminTls config) {
      return config.enabled() ? new ClientTls(true, config.trustedCerts(), false) : PLAIN;
    }
  }

  private AdminTransport() {}

  public static HttpServerOptions serverOptions(AdminTls tls) {
    HttpServerOptions options = new HttpServerOptions();
    if (tls.enabled()) {
      options.setSsl(true).setUseAlpn(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString()));
    }
    return options;
  }

  public static HttpClientOptions clientOptions(ClientTls tls) {
    // gRPC needs HTTP/2 from the first byte: prior knowledge in clear text, ALPN under TLS.
    HttpClientOptions options = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false);
    if (tls.tls()) {
      options.setSsl(true).setUseAlpn(true);
      if (tls.skipVerify()) {
        options.setTrustAll(true).setVerifyHost(false);
      } else if (tls.trustedCerts() != null) {
        options.setTrustOptions(new PemTrustOptions().addCertPath(tls.trustedCerts().toString()));
      }
    }
    return options;
  }
}
