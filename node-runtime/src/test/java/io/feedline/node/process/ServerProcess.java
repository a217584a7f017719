package io.feedline.node.process;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code feedline.jar} process under test: started with the given arguments from the repository
 * root, its log captured (and copied to a file under target/), its admin port read from the log.
 */
final class ServerProcess implements AutoCloseable {

  private static final Pattern STARTED = Pattern.compile("event=node_started node=(\\S+) admin=\\S+:(\\d+)");
  // HTTP/1.1: the default HTTP/2 (an h2c upgrade here) once hung a /metrics GET for minutes past its 10 s
  // request timeout (AdminForwardingIT, JDK 17.0.15; the server answered curl in 6 ms meanwhile).
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  private final Process process;
  private final Thread pump;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private ServerProcess(Process process, Path logFile) {
    this.process = process;
    this.pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.add(line);
          Files.writeString(logFile, line + "\n", StandardCharsets.UTF_8,
              java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
      } catch (IOException ignored) {
        // The process ended.
      }
    }, "server-log-pump");
    pump.setDaemon(true);
    pump.start();
  }

  static Path jar() {
    return Path.of(System.getProperty("feedline.jar", "target/feedline.jar"));
  }

  static Path repo() {
    return Path.of(System.getProperty("feedline.repo", ".."));
  }

  static ServerProcess start(Path logFile, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        java(), "-Xmx512m",
        // Tests only: members need not wait for late joiners (the shipped config keeps Hazelcast's defaults).
        "-Dhazelcast.wait.seconds.before.join=0", "-Dhazelcast.max.wait.seconds.before.join=1",
        "-jar", jar().toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    Files.createDirectories(logFile.getParent());
    Files.deleteIfExists(logFile);
    Process p = new ProcessBuilder(cmd).directory(repo().toFile()).redirectErrorStream(true).start();
    return new ServerProcess(p, logFile);
  }

  List<String> log() {
    return List.copyOf(lines);
  }

  Optional<String> awaitLine(Predicate<String> match, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (String l : lines) {
        if (match.test(l)) {
          return Optional.of(l);
        }
      }
      if (!process.isAlive() && lines.stream().noneMatch(match)) {
        return Optional.empty();
      }
      Thread.sleep(50);
    }
    return Optional.empty();
  }

  /** Waits for the started line and returns (nodeId, adminPort). */
  Started awaitStarted(Duration timeout) throws InterruptedException {
    String line = awaitLine(l -> STARTED.matcher(l).find(), timeout)
        .orElseThrow(() -> new AssertionError("node did not start; log:\n" + String.join("\n", lines)));
    Matcher m = STARTED.matcher(line);
    m.find();
    return new Started(m.group(1), Integer.parseInt(m.group(2)));
  }

  /** The node the process runs now: the one it started last (a node that rejoins after a lost session is a new one). */
  Started lastStarted() {
    List<String> log = log();
    for (int i = log.size() - 1; i >= 0; i--) {
      Matcher m = STARTED.matcher(log.get(i));
      if (m.find()) {
        return new Started(m.group(1), Integer.parseInt(m.group(2)));
      }
    }
    throw new AssertionError("the node has not started; log:\n" + String.join("\n", log));
  }

  record Started(String nodeId, int port) {
    String get(String path) throws IOException, InterruptedException {
      return http("GET", path, null, null).body();
    }

    /** A curl-style JSON request; {@code token} null sends no authorization header. */
    HttpResponse<String> http(String method, String path, String jsonBody, String token) throws IOException, InterruptedException {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
          .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody))
          .header("content-type", "application/json");
      if (token != null) {
        b.header("authorization", "Bearer " + token);
      }
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Runs {@code feedline.jar cli --server 127.0.0.1:<port> args...} as its own process. */
    CliResult cli(String... args) throws IOException, InterruptedException {
      List<String> all = new ArrayList<>(List.of("cli", "--server", "127.0.0.1:" + port));
      all.addAll(List.of(args));
      return command(all.toArray(String[]::new));
    }

    /** Runs the CLI until {@code done} holds (e.g. past UNAVAILABLE while a coordinator is elected), within {@code timeout}. */
    CliResult cliUntil(Duration timeout, Predicate<CliResult> done, String... args) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      CliResult last;
      do {
        last = cli(args);
        if (done.test(last)) {
          return last;
        }
        Thread.sleep(200);
      } while (System.nanoTime() < deadline);
      throw new AssertionError("cli " + String.join(" ", args) + " did not get there within " + timeout + "; last: " + last);
    }
  }

  /** Asks the nodes in turn (one may be down or rejoining) until one answers as {@code done} wants, within {@code timeout}. */
  static CliResult cliOnAny(List<Started> nodes, Duration timeout, Predicate<CliResult> done, String what, String... args)
      throws IOException, InterruptedException {
    return cliOnAny(() -> nodes, timeout, done, what, args);
  }

  /** As {@link #cliOnAny(List, Duration, Predicate, String, String...)}, asking {@code nodes} anew for every attempt. */
  static CliResult cliOnAny(Supplier<List<Started>> nodes, Duration timeout, Predicate<CliResult> done, String what, String... args)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    CliResult last = null;
    while (System.nanoTime() < deadline) {
      for (Started node : List.copyOf(nodes.get())) {
        last = node.cli(args);
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError(what + ": not within " + timeout + "; last answer: " + last);
  }

  /** Waits (asking any of the nodes) until changefeed {@code id}'s checkpoint passes {@code tso}; returns the seconds that took. */
  static double awaitCheckpointPast(List<Started> nodes, Duration timeout, String id, long tso, String what)
      throws IOException, InterruptedException {
    return awaitCheckpointPast(() -> nodes, timeout, id, tso, what);
  }

  /** As {@link #awaitCheckpointPast(List, Duration, String, long, String)}, asking {@code nodes} anew for every attempt. */
  static double awaitCheckpointPast(Supplier<List<Started>> nodes, Duration timeout, String id, long tso, String what)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    cliOnAny(nodes, timeout, r -> r.exit() == 0 && Long.parseUnsignedLong(new JsonObject(r.out()).getValue("checkpointTs").toString()) > tso,
        what, "changefeed", "query", "--id", id, "-o", "json");
    return (System.nanoTime() - start) / 1e9;
  }

  /** Runs {@code feedline.jar args...} as its own process until it exits: what it printed and its exit code. */
  static CliResult command(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar().toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    // stderr to a file: reading two pipes one after the other could block on a full one.
    Path errFile = Files.createTempFile(Files.createDirectories(Path.of("target", "it")), "cli", ".err");
    try {
      Process p = new ProcessBuilder(cmd).directory(repo().toFile()).redirectError(errFile.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("command " + cmd + " did not exit");
      }
      return new CliResult(p.exitValue(), out.strip(), Files.readString(errFile).strip());
    } finally {
      Files.deleteIfExists(errFile);
    }
  }

  /** What one CLI run printed and how it exited. */
  record CliResult(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit=" + exit + " out=" + out + " err=" + err;
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * SIGTERM, as an operator or a service manager would send. Through the process handle: Process.destroy()
   * would also close our end of the output pipe and lose what the server logs while stopping.
   */
  void terminate() {
    process.toHandle().destroy();
  }

  /** SIGKILL, as a crash would: nothing is stopped cleanly. Waits until the process is gone. */
  void kill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("process did not exit within " + timeout + "; log:\n" + String.join("\n", lines));
    }
    // The process is gone; let the pump read what it wrote last.
    pump.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The process's resident set, in MiB, from /proc (Linux). */
  long rssMiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
      }
    }
    throw new IOException("no VmRSS for process " + process.pid());
  }

  /** Now as a TSO timestamp (physical milliseconds in the high bits), to compare with checkpoints. */
  static long tsoNow() {
    return System.currentTimeMillis() << 18;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
