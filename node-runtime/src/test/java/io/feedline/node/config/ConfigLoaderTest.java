package io.feedline.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.config.DataPlaneSettings;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  private Path yaml(String text) throws IOException {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void shippedConfigLoadsToTheDesignDefaults() {
    NodeConfig config = ConfigLoader.load(Path.of("../conf/node.yaml"), Map.of(), Map.of());
    assertThat(config.port()).isEqualTo(8300);
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.embeddedStore()).isTrue();
    assertThat(config.cluster()).isFalse();
    assertThat(config.timings()).isEqualTo(Timings.DEFAULTS);
  }

  @Test
  void everyTimingOfTheDesignIsAConfigKey() {
    assertThat(ConfigLoader.keys()).contains("timings.session-ttl", "timings.coordinator-tick", "timings.resend-interval",
        "timings.maintainer-tick", "timings.maintainer-heartbeat", "timings.maintainer-status-force", "timings.dispatcher-heartbeat",
        "timings.node-heartbeat", "timings.drain-target-resend", "timings.liveness-resend", "timings.balance-interval");
  }

  @Test
  void flagsWinOverEnvironmentWhichWinsOverTheFile() throws IOException {
    Path file = yaml("port: 9000\ndata-dir: from-file\ntimings:\n  session-ttl: 20s\n  node-heartbeat: 3s\n");
    NodeConfig config = ConfigLoader.load(file,
        Map.of("FEEDLINE_PORT", "9100", "FEEDLINE_TIMINGS_SESSION_TTL", "30s", "UNRELATED", "x"),
        Map.of("port", "9200"));
    assertThat(config.port()).isEqualTo(9200);
    assertThat(config.timings().sessionTtl()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.timings().nodeHeartbeat()).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.dataDir()).isEqualTo(Path.of("from-file"));
    assertThat(config.timings().coordinatorTick()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void etcdListAndClusterMode() throws IOException {
    NodeConfig config = ConfigLoader.load(yaml("etcd: [http://127.0.0.1:2379, http://127.0.0.1:2380]\ncluster: true\n"), Map.of(), Map.of());
    assertThat(config.etcdEndpoints()).containsExactly("http://127.0.0.1:2379", "http://127.0.0.1:2380");
    assertThat(config.cluster()).isTrue();
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("etcd", "http://127.0.0.1:1")).etcdEndpoints()).containsExactly("http://127.0.0.1:1");
  }

  @Test
  void theMemoryQuotaAndDataLanesTakeSizesFlagsOrTheirDefaults() throws IOException {
    NodeConfig defaults = ConfigLoader.load(Path.of("../conf/node.yaml"), Map.of(), Map.of());
    assertThat(defaults.dataPlane()).isEqualTo(DataPlaneSettings.DEFAULTS);
    NodeConfig set = ConfigLoader.load(yaml("dataplane:\n  memory-quota: 512MiB\n  threads: 3\n"), Map.of(),
        Map.of("dataplane.memory-quota", "2g"));
    assertThat(set.dataPlane()).isEqualTo(new DataPlaneSettings(2L << 30, 3));
    assertThat(ConfigLoader.parseSize("1048576")).isEqualTo(1L << 20);
    assertThat(ConfigLoader.parseSize("64 KiB")).isEqualTo(64L << 10);
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FEEDLINE_DATAPLANE_MEMORY_QUOTA", "lots"), Map.of()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
            "dataplane.memory-quota: 'lots' is not a size (use e.g. 512MiB, 2GiB) (from environment FEEDLINE_DATAPLANE_MEMORY_QUOTA)"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("dataplane.threads", "0")))
        .hasMessageContaining("dataplane.threads must be within 1..256, got 0");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("dataplane.memory-quota", "1KiB")))
        .hasMessageContaining("dataplane.memory-quota must be at least 1MiB");
  }

  @Test
  void everyProblemIsReportedAtOnceWithItsSource() throws IOException {
    Path file = yaml("port: eighty\ntimings:\n  sesion-ttl: 10s\n  node-heartbeat: soon\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of("FEEDLINE_CLUSTER", "maybe"), Map.of()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "unknown config key 'timings.sesion-ttl' (from file " + file + ")",
            "port: 'eighty' is not a number (from file " + file + ")",
            "cluster: 'maybe' is not a boolean (true/false) (from environment FEEDLINE_CLUSTER)",
            "timings.node-heartbeat: 'soon' is not a duration (use e.g. 500ms, 10s, 2m, 1h) (from file " + file + ")"));
  }

  @Test
  void adminTlsIsOffByDefaultAndTakesPemFilesFromFileEnvironmentOrFlags() throws IOException {
    assertThat(ConfigLoader.load(Path.of("../conf/node.yaml"), Map.of(), Map.of()).adminTls().enabled()).isFalse();
    Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    Path ca = Files.writeString(dir.resolve("ca.pem"), Files.readString(cert));
    NodeConfig config = ConfigLoader.load(yaml("admin:\n  tls:\n    cert-file: " + dir.resolve("nope.pem") + "\n    key-file: " + key + "\n"),
        Map.of("FEEDLINE_ADMIN_TLS_CERT_FILE", cert.toString()), Map.of("admin.tls.ca-file", ca.toString()));
    assertThat(config.adminTls().enabled()).isTrue();
    assertThat(config.adminTls().certFile()).isEqualTo(cert);
    assertThat(config.adminTls().keyFile()).isEqualTo(key);
    assertThat(config.adminTls().trustedCerts()).isEqualTo(ca);
    assertThat(ConfigLoader.load(null, Map.of(), Map.of("admin.tls.cert-file", cert.toString(), "admin.tls.key-file", key.toString()))
        .adminTls().trustedCerts()).as("without a CA file, forwarding trusts the node's own certificate").isEqualTo(cert);
  }

  @Test
  void adminTlsFilesMustExistHoldPemAndComeInPairs() throws IOException {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path missing = dir.resolve("missing.pem");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("admin.tls.cert-file", missing.toString(), "admin.tls.key-file", cert.toString())))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
            "admin.tls.cert-file: file " + missing + " does not exist (from flag --admin.tls.cert-file)",
            "admin.tls.key-file: file " + cert + " holds no PEM PRIVATE KEY (from flag --admin.tls.key-file)"));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FEEDLINE_ADMIN_TLS_CERT_FILE", cert.toString()), Map.of()))
        .hasMessageContaining("admin.tls.cert-file and admin.tls.key-file go together");
  }

  @Test
  void semanticRulesAreChecked() {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("timings.session-ttl", "2s")))
        .hasMessageContaining("timings.session-ttl must be at least 5s");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("cluster", "true")))
        .hasMessageContaining("cluster mode needs a shared metastore");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("port", "70000")))
        .hasMessageContaining("port must be within 0..65535");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("etcd", "127.0.0.1:2379")))
        .hasMessageContaining("etcd endpoint must look like http://host:port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), Map.of("timings.maintainer-tick", "0ms")))
        .hasMessageContaining("timings.maintainer-tick must be positive");
  }

  @Test
  void badFilesAreClearErrors() throws IOException {
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.yaml"), Map.of(), Map.of()))
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("port: [unclosed\n"), Map.of(), Map.of()))
        .hasMessageContaining("is not valid YAML");
    assertThatThrownBy(() -> ConfigLoader.load(yaml("- a\n- b\n"), Map.of(), Map.of()))
        .hasMessageContaining("must hold a mapping");
    assertThat(ConfigLoader.load(yaml(""), Map.of(), Map.of()).port()).isEqualTo(8300);
  }

  @Test
  void envNamesFollowTheKey() {
    assertThat(List.of(ConfigLoader.envName("timings.session-ttl"), ConfigLoader.envName("data-dir")))
        .containsExactly("FEEDLINE_TIMINGS_SESSION_TTL", "FEEDLINE_DATA_DIR");
  }
}
