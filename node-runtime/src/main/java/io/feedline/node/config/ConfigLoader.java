package io.feedline.node.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.feedline.common.config.AdminTls;
import io.feedline.common.config.DataPlaneSettings;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a {@link NodeConfig} from, in increasing precedence: built-in defaults, the YAML file,
 * environment variables ({@code FEEDLINE_<KEY>}, e.g. {@code FEEDLINE_TIMINGS_SESSION_TTL=15s}) and
 * command-line flags. Keys are flat dotted names ({@code port}, {@code timings.session-ttl}); an unknown
 * key or a bad value is an error naming the key and where it came from, and every problem is reported
 * at once.
 */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "FEEDLINE_";

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|KB|MB|GB|k|m|g)?", Pattern.CASE_INSENSITIVE);
  /** A value that leaves a setting to the node: sized from the heap or the cores. */
  static final String AUTO = "auto";

  /** Every key with its default, in the order documented in conf/node.yaml. */
  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("host", "127.0.0.1");
    DEFAULTS.put("port", "8300");
    DEFAULTS.put("data-dir", "data");
    DEFAULTS.put("etcd", "");
    DEFAULTS.put("cluster", "false");
    DEFAULTS.put("cluster-id", "default");
    DEFAULTS.put("hazelcast-config", "conf/hazelcast.xml");
    DEFAULTS.put("cluster-host", "127.0.0.1");
    DEFAULTS.put("admin.token", "");
    DEFAULTS.put("admin.tls.cert-file", "");
    DEFAULTS.put("admin.tls.key-file", "");
    DEFAULTS.put("admin.tls.ca-file", "");
    DEFAULTS.put("scheduler.batch-size", Integer.toString(NodeConfig.DEFAULT_SCHEDULE_BATCH));
    DEFAULTS.put("changefeed.failed-after", NodeConfig.DEFAULT_FAILED_AFTER.toMinutes() + "m");
    DEFAULTS.put("dataplane.memory-quota", AUTO);
    DEFAULTS.put("dataplane.threads", AUTO);
    Timings.DEFAULTS.asMap().forEach((k, v) -> DEFAULTS.put("timings." + k, v.toMillis() + "ms"));
  }

  private ConfigLoader() {}

  public static List<String> keys() {
    return List.copyOf(DEFAULTS.keySet());
  }

  /**
   * @param file the YAML file, or null for none
   * @param env the process environment
   * @param flags values given on the command line, by key
   */
  public static NodeConfig load(Path file, Map<String, String> env, Map<String, String> flags) {
    List<String> problems = new ArrayList<>();
    Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    Map<String, String> origin = new LinkedHashMap<>();
    DEFAULTS.keySet().forEach(k -> origin.put(k, "default"));

    if (file != null) {
      readYaml(file, problems).forEach((k, v) -> set(values, origin, k, v, "file " + file, problems));
    }
    for (String key : DEFAULTS.keySet()) {
      String name = envName(key);
      if (env.containsKey(name)) {
        set(values, origin, key, env.get(name), "environment " + name, problems);
      }
    }
    flags.forEach((k, v) -> set(values, origin, k, v, "flag --" + k, problems));

    NodeConfig config = build(values, origin, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /** The environment variable that overrides {@code key}: {@code timings.session-ttl} → {@code FEEDLINE_TIMINGS_SESSION_TTL}. */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 500ms, 10s, 2m, 1h)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** A byte size: {@code 512MiB}, {@code 2GiB}, {@code 1048576}; {@code MB}/{@code m} mean MiB too, as in JVM flags. */
  public static long parseSize(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a size (use e.g. 512MiB, 2GiB)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    int shift = switch (unit.charAt(0)) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      default -> 0;
    };
    if (n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return n << shift;
  }

  private static void set(Map<String, String> values, Map<String, String> origin, String key, String value, String source, List<String> problems) {
    if (!DEFAULTS.containsKey(key)) {
      problems.add("unknown config key '" + key + "' (from " + source + ")");
      return;
    }
    values.put(key, value);
    origin.put(key, source);
  }

  private static NodeConfig build(Map<String, String> v, Map<String, String> origin, List<String> problems) {
    int port = parse(v, origin, "port", Integer::parseInt, problems, 0);
    int scheduleBatch = parse(v, origin, "scheduler.batch-size", Integer::parseInt, problems, 0);
    Duration failedAfter = parse(v, origin, "changefeed.failed-after", ConfigLoader::parseDuration, problems, null);
    boolean cluster = parse(v, origin, "cluster", ConfigLoader::parseBoolean, problems, false);
    long memoryQuota = parse(v, origin, "dataplane.memory-quota",
        s -> s.equalsIgnoreCase(AUTO) ? DataPlaneSettings.defaultMemoryQuota() : parseSize(s), problems, 0L);
    int dataThreads = parse(v, origin, "dataplane.threads",
        s -> s.equalsIgnoreCase(AUTO) ? DataPlaneSettings.defaultThreads() : Integer.parseInt(s), problems, 0);
    Map<String, Duration> timings = new LinkedHashMap<>();
    for (String key : DEFAULTS.keySet()) {
      if (key.startsWith("timings.")) {
        Duration d = parse(v, origin, key, ConfigLoader::parseDuration, problems, null);
        if (d != null) {
          timings.put(key.substring("timings.".length()), d);
        }
      }
    }
    List<String> etcd = Arrays.stream(v.get("etcd").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    Path tlsCert = pemFile(v, origin, "admin.tls.cert-file", "CERTIFICATE", problems);
    Path tlsKey = pemFile(v, origin, "admin.tls.key-file", "PRIVATE KEY", problems);
    Path tlsCa = pemFile(v, origin, "admin.tls.ca-file", "CERTIFICATE", problems);
    if (!problems.isEmpty()) {
      return null;
    }
    try {
      return new NodeConfig(v.get("host"), port, Path.of(v.get("data-dir")), etcd, cluster, v.get("cluster-id"),
          Path.of(v.get("hazelcast-config")), v.get("cluster-host"), Timings.fromMap(timings), scheduleBatch, failedAfter,
          v.get("admin.token"), new AdminTls(tlsCert, tlsKey, tlsCa), new DataPlaneSettings(memoryQuota, dataThreads));
    } catch (IllegalArgumentException e) {
      problems.add(e.getMessage());
      return null;
    }
  }

  /**
   * The PEM file {@code key} names (null when empty), checked here so that a wrong path stops start-up as a
   * configuration error naming the key, not as a TLS failure when the port opens.
   */
  private static Path pemFile(Map<String, String> v, Map<String, String> origin, String key, String pemType, List<String> problems) {
    String value = v.get(key).trim();
    if (value.isEmpty()) {
      return null;
    }
    Path file = Path.of(value);
    String problem;
    if (!Files.isRegularFile(file)) {
      problem = "file " + file + " does not exist";
    } else if (!Files.isReadable(file)) {
      problem = "file " + file + " is not readable";
    } else {
      try {
        problem = Files.readString(file, StandardCharsets.ISO_8859_1).contains(pemType + "-----")
            ? null : "file " + file + " holds no PEM " + pemType;
      } catch (IOException | RuntimeException e) {
        problem = "file " + file + " cannot be read as PEM: " + e.getMessage();
      }
    }
    if (problem != null) {
      problems.add(key + ": " + problem + " (from " + origin.get(key) + ")");
      return null;
    }
    return file;
  }

  private static <T> T parse(Map<String, String> v, Map<String, String> origin, String key,
      java.util.function.Function<String, T> parser, List<String> problems, T fallback) {
    try {
      return parser.apply(v.get(key).trim());
    } catch (RuntimeException e) {
      String reason = e instanceof NumberFormatException ? "'" + v.get(key) + "' is not a number" : e.getMessage();
      problems.add(key + ": " + reason + " (from " + origin.get(key) + ")");
      return fallback;
    }
  }

  private static boolean parseBoolean(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("'" + s + "' is not a boolean (true/false)");
    };
  }

  /** Flattens the YAML document into dotted keys; lists become comma-separated values. */
  private static Map<String, String> readYaml(Path file, List<String> problems) {
    Map<String, String> flat = new LinkedHashMap<>();
    if (!Files.isRegularFile(file)) {
      problems.add("config file " + file + " does not exist");
      return flat;
    }
    try {
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
      if (root == null || root.isNull() || root.isMissingNode()) {
        return flat;
      }
      if (!root.isObject()) {
        problems.add("config file " + file + " must hold a mapping of keys to values");
        return flat;
      }
      flatten("", root, flat);
    } catch (IOException e) {
      problems.add("config file " + file + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    return flat;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix + e.getKey();
      JsonNode value = e.getValue();
      if (value.isObject()) {
        flatten(key + ".", value, out);
      } else if (value.isArray()) {
        List<String> items = new ArrayList<>();
        value.forEach(item -> items.add(item.asText()));
        out.put(key, String.join(",", items));
      } else {
        out.put(key, value.isNull() ? "" : value.asText());
      }
    }
  }
}
