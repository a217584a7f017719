package io.feedline.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real single-member etcd for tests, on two free loopback ports, with its data dir under
 * {@code target/}.
 *
 * <p>etcd runs under a small {@code sh} wrapper that holds a pipe from this JVM on its stdin and kills
 * etcd when that pipe closes. The pipe closes when {@link #stop()} closes it, and also when the JVM dies
 * in any way (even {@code kill -9}), so a crashed test run cannot leave etcd behind. A shutdown hook
 * covers an ordinary JVM exit without {@code stop()}.
 */
public final class EtcdServer implements AutoCloseable {

  private static final Path ETCD = Path.of("/usr/bin/etcd");
  private static final int START_ATTEMPTS = 5;
  private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(15);

  /**
   * Runs etcd ($0 with arguments $@) in the background with stdin from /dev/null, then blocks reading
   * its own stdin, the pipe from the JVM. EOF means the JVM closed the pipe or died: kill etcd and wait.
   */
  private static final String WRAPPER =
      "\"$0\" \"$@\" </dev/null & pid=$!\n"
          + "cat >/dev/null\n"
          + "kill -TERM $pid 2>/dev/null\n"
          + "wait $pid\n";

  private final Path baseDir;
  private Process process;
  private Thread shutdownHook;
  private int clientPort;
  private int peerPort;
  private Path dataDir;

  private EtcdServer(Path baseDir) {
    this.baseDir = baseDir;
  }

  /** Starts etcd and returns once it reports healthy. */
  public static EtcdServer start() {
    if (!Files.isExecutable(ETCD)) {
      throw new IllegalStateException(
          ETCD + " is missing or not executable: install the Debian package etcd-server to run etcd tests");
    }
    EtcdServer server = new EtcdServer(Path.of("target", "etcd", "etcd-" + UUID.randomUUID()).toAbsolutePath());
    server.startWithRetries();
    return server;
  }

  /** The client URL, e.g. {@code http://127.0.0.1:40123}. */
  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  public synchronized void stop() {
    if (process == null) {
      return;
    }
    TestProcesses.terminate(process, 10);
    process = null;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: nothing left to undo
    }
    TestProcesses.deleteRecursively(baseDir);
  }

  /**
   * Stops etcd (SIGTERM, as a service manager would) and starts it again on the same ports and data:
   * clients see their connections fail and come back; leases survive, as in a real etcd restart.
   */
  public synchronized void restart() {
    if (process == null) {
      throw new IllegalStateException("etcd is not running");
    }
    TestProcesses.terminate(process, 10);
    startAgain();
  }

  /**
   * Kills etcd with SIGKILL, as a crash would; {@link #startAgain()} brings it back on its data. Its
   * listening socket is gone when this returns (the process stays a zombie until the wrapper reaps it).
   */
  public synchronized void crash() {
    signal("KILL");
  }

  /** Freezes etcd with SIGSTOP: a hung store, whose connections stay open and answer nothing. */
  public synchronized void freeze() {
    signal("STOP");
  }

  /** Lets a frozen etcd go on (SIGCONT). */
  public synchronized void thaw() {
    signal("CONT");
  }

  /** Starts etcd again on the same ports and data after {@link #crash()} (or restarts a running one). */
  public synchronized void startAgain() {
    if (process == null) {
      throw new IllegalStateException("etcd was stopped for good");
    }
    TestProcesses.terminate(process, 10);
    Path log = baseDir.resolve("etcd-restart-" + System.nanoTime() + ".log");
    Process started = launch(clientPort, peerPort, dataDir, log);
    String failure = awaitHealthy(started, clientPort, log);
    if (failure != null) {
      TestProcesses.terminate(started, 10);
      process = null;
      throw new IllegalStateException("etcd did not come back on port " + clientPort + ": " + failure);
    }
    process = started;
    Runtime.getRuntime().removeShutdownHook(shutdownHook);
    shutdownHook = new Thread(() -> TestProcesses.terminate(started, 10), "etcd-test-server-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** The etcd process itself (the wrapper's child). */
  private Optional<ProcessHandle> etcdProcess() {
    return process == null ? Optional.empty() : process.children().findFirst();
  }

  private void signal(String name) {
    ProcessHandle etcd = etcdProcess().orElseThrow(() -> new IllegalStateException("etcd is not running"));
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(etcd.pid())).inheritIO().start();
      if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + etcd.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void startWithRetries() {
    List<String> failures = new ArrayList<>();
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      int client = TestProcesses.freePort();
      int peer = TestProcesses.freePort();
      Path dataDir = baseDir.resolve("data-" + attempt);
      Path log = baseDir.resolve("etcd-" + attempt + ".log");
      Process started = launch(client, peer, dataDir, log);
      String failure = awaitHealthy(started, client, log);
      if (failure == null) {
        process = started;
        clientPort = client;
        peerPort = peer;
        this.dataDir = dataDir;
        shutdownHook = new Thread(() -> TestProcesses.terminate(started, 10), "etcd-test-server-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        return;
      }
      // Usually a port taken between probing and binding: try again on new ports.
      TestProcesses.terminate(started, 10);
      failures.add("attempt " + attempt + " (client port " + client + ", peer port " + peer + "): " + failure);
    }
    throw new IllegalStateException("etcd did not start:\n" + String.join("\n", failures));
  }

  private static Process launch(int clientPort, int peerPort, Path dataDir, Path log) {
    String clientUrl = "http://127.0.0.1:" + clientPort;
    String peerUrl = "http://127.0.0.1:" + peerPort;
    List<String> command = new ArrayList<>(List.of("sh", "-c", WRAPPER, ETCD.toString()));
    command.addAll(List.of(
        "--name", "test",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", clientUrl,
        "--advertise-client-urls", clientUrl,
        "--listen-peer-urls", peerUrl,
        "--initial-advertise-peer-urls", peerUrl,
        "--initial-cluster", "test=" + peerUrl,
        "--initial-cluster-state", "new",
        "--logger", "zap",
        "--log-outputs", "stderr",
        "--log-level", "warn"));
    try {
      Files.createDirectories(dataDir.getParent());
      return new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot launch " + ETCD, e);
    }
  }

  /** Polls /health until etcd is healthy; returns null on success, otherwise why it failed. */
  private static String awaitHealthy(Process started, int clientPort, Path log) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + clientPort + "/health"))
        .timeout(Duration.ofSeconds(1))
        .build();
    long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!started.isAlive()) {
        return "etcd exited with " + started.exitValue() + ": " + tail(log);
      }
      try {
        HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().replace(" ", "").contains("\"health\":\"true\"")) {
          return null;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
      try {
        started.waitFor(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }
    return "not healthy within " + HEALTH_TIMEOUT + ": " + tail(log);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

}
