package io.feedline.node.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.testing.EtcdServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin port with TLS: a self-signed certificate (made by the openssl CLI) shared by two clustered
 * servers. The CLI reaches the follower over TLS and the follower forwards to the coordinator's node over
 * TLS; clear-text callers and a CLI that does not trust the certificate are refused with a reason.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AdminTlsIT {

  // Two clustered JVMs joining on a loaded 2-core machine can take a minute.
  private static final Duration START = Duration.ofSeconds(120);
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static Path work;
  private static Path cert;
  private static Path key;

  @BeforeAll
  static void selfSignedCertificate() throws Exception {
    work = Files.createDirectories(Path.of("target", "it", "admin-tls-" + UUID.randomUUID()).toAbsolutePath());
    cert = work.resolve("cert.pem");
    key = work.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=feedline-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key.toString(), "-out", cert.toString())
        .redirectErrorStream(true).redirectOutput(work.resolve("openssl.log").toFile()).start();
    assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(openssl.exitValue()).as("openssl: %s", Files.readString(work.resolve("openssl.log"))).isZero();
  }

  @Test
  void cliAndForwardingSpeakTlsAndClearTextCallersAreRefused() throws Exception {
    String clusterId = "tls" + UUID.randomUUID().toString().substring(0, 8);
    try (EtcdServer etcd = EtcdServer.start();
         ServerProcess a = ServerProcess.start(work.resolve("a.log"), server(etcd, clusterId, "a"));
         ServerProcess b = ServerProcess.start(work.resolve("b.log"), server(etcd, clusterId, "b"))) {
      ServerProcess.Started sa = a.awaitStarted(START);
      ServerProcess.Started sb = b.awaitStarted(START);
      String caCert = "--ca-cert=" + cert;

      JsonArray nodes = new JsonArray(sa.cliUntil(SETTLE, r -> r.exit() == 0 && new JsonArray(r.out()).size() == 2,
          caCert, "node", "list", "-o", "json").out());
      String leader = nodes.stream().map(JsonObject.class::cast).filter(n -> n.getBoolean("coordinator"))
          .map(n -> n.getString("id")).findFirst().orElseThrow();
      ServerProcess.Started follower = leader.equals(sa.nodeId()) ? sb : sa;

      String id = "tls-" + UUID.randomUUID().toString().substring(0, 8);
      ServerProcess.CliResult created = follower.cli(caCert, "changefeed", "create", "--id", id,
          "--source", "datagen://?tables=1", "--sink", "blackhole://", "-o", "json");
      assertThat(created.exit()).as("created through the follower, forwarded over TLS: %s", created).isZero();
      assertThat(new JsonObject(created.out()).getString("id")).isEqualTo(id);
      ServerProcess.CliResult skipVerify = follower.cli("--insecure-skip-verify", "changefeed", "query", "--id", id);
      assertThat(skipVerify.exit()).as(skipVerify.toString()).isZero();
      assertThat(skipVerify.out()).contains(id);

      ServerProcess.CliResult clearText = follower.cli("changefeed", "list");
      assertThat(clearText.exit()).isEqualTo(1);
      assertThat(clearText.err()).startsWith("feedline: UNAVAILABLE: ").contains("add --tls");
      ServerProcess.CliResult untrusted = follower.cli("--tls", "changefeed", "list");
      assertThat(untrusted.exit()).isEqualTo(1);
      assertThat(untrusted.err()).contains("certificate is not trusted").contains("--ca-cert");
      // Health and metrics share the port, so they too are TLS only.
      assertThatThrownBy(() -> follower.get("/health")).isInstanceOf(IOException.class);
      HttpClient https = HttpClient.newBuilder().sslContext(trusting(cert)).connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + follower.port() + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(health.body()).getJsonArray("members")).hasSize(2);
      HttpResponse<String> listed = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + follower.port() + "/api/v1/changefeeds/" + id)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(listed.statusCode()).as("JSON API over TLS, forwarded: %s", listed.body()).isEqualTo(200);
    }
  }

  @Test
  void cliWithTlsAgainstAClearTextPortSaysSo() throws Exception {
    try (ServerProcess p = ServerProcess.start(work.resolve("plain.log"), "server", "--port", "0",
        "--data-dir", work.resolve("plain").toString())) {
      ServerProcess.Started s = p.awaitStarted(START);
      ServerProcess.CliResult r = s.cli("--tls", "node", "list");
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).startsWith("feedline: UNAVAILABLE: ").contains("does not speak TLS");
    }
  }

  @Test
  void missingOrHalfTlsConfigurationExitsWithCodeTwoAndTheReason() throws Exception {
    Path missing = work.resolve("missing.pem");
    List<List<String>> cases = List.of(
        List.of("--tls-cert", missing.toString(), "--tls-key", key.toString()),
        List.of("--tls-cert", cert.toString()),
        List.of("--tls-cert", key.toString(), "--tls-key", key.toString()));
    List<String> reasons = List.of(
        "admin.tls.cert-file: file " + missing + " does not exist",
        "admin.tls.cert-file and admin.tls.key-file go together",
        "admin.tls.cert-file: file " + key + " holds no PEM CERTIFICATE");
    for (int i = 0; i < cases.size(); i++) {
      List<String> args = new java.util.ArrayList<>(List.of("server", "--port", "0", "--data-dir", work.resolve("bad").toString()));
      args.addAll(cases.get(i));
      String reason = reasons.get(i);
      try (ServerProcess p = ServerProcess.start(work.resolve("bad-" + i + ".log"), args.toArray(String[]::new))) {
        assertThat(p.awaitExit(Duration.ofSeconds(30))).as("exit code for %s", cases.get(i)).isEqualTo(2);
        assertThat(p.log()).as("log for %s", cases.get(i)).anyMatch(l -> l.contains(reason));
      }
    }
  }

  /** An SSL context that trusts exactly the PEM certificate {@code pem}. */
  private static SSLContext trusting(Path pem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (var in = Files.newInputStream(pem)) {
      trust.setCertificateEntry("feedline", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static String[] server(EtcdServer etcd, String clusterId, String name) {
    return new String[] {"server", "--etcd", etcd.endpoint(), "--cluster", "--cluster-id", clusterId, "--port", "0",
        "--config", "conf/node.yaml", "--data-dir", work.resolve(name).toString(),
        "--tls-cert", cert.toString(), "--tls-key", key.toString()};
  }
}
