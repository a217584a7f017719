package io.feedline.common.config;

import java.nio.file.Path;

/**
 * TLS of the admin port (gRPC, JSON API, health and metrics share it). Off when {@code certFile} is null.
 *
 * @param certFile PEM certificate chain the port presents
 * @param keyFile PEM private key of that certificate
 * @param caFile PEM certificates a node trusts when it forwards a request to the coordinator's node;
 *     null = the node's own certificate (one self-signed certificate shared by every node)
 */
public record AdminTls(Path certFile, Path keyFile, Path caFile) {

  public static final AdminTls OFF = new AdminTls(null, null, null);

  public AdminTls {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("admin.tls.cert-file and admin.tls.key-file go together: give both or neither");
    }
    if (certFile == null && caFile != null) {
      throw new IllegalArgumentException("admin.tls.ca-file needs admin.tls.cert-file and admin.tls.key-file");
    }
  }

  public boolean enabled() {
    return certFile != null;
  }

  /** What forwarding trusts: the CA file, else the node's own certificate. */
  public Path trustedCerts() {
    return caFile != null ? caFile : certFile;
  }
}
