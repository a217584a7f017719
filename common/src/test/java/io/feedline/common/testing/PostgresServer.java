package io.feedline.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL 15 (Debian's {@code postgresql-15}) for tests: a throwaway cluster ({@code initdb}) under
 * {@code target/}, on a free loopback port, with {@code wal_level=logical}. Superuser {@value #SUPERUSER}
 * connects without a password; role {@value #PASSWORD_USER} (password {@value #PASSWORD}) must give its
 * password (scram-sha-256), for the tests of credentials.
 *
 * <p>{@code initdb} and {@code postgres} refuse to run as root: as root they run as the {@code postgres}
 * system user the package creates. The server runs under the same kind of {@code sh} wrapper as
 * {@link EtcdServer}: it holds a pipe from this JVM and stops the server when the pipe closes, which also
 * happens when the JVM dies in any way, so a crashed test run cannot leave PostgreSQL behind.
 */
public final class PostgresServer implements AutoCloseable {

  public static final String SUPERUSER = "feedline";
  public static final String PASSWORD_USER = "secured";
  public static final String PASSWORD = "s3cret-Pa55";
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
  private static final int START_ATTEMPTS = 3;

  /** postgres ($0 with arguments $@) in the background; EOF on our stdin (the JVM's pipe) stops it (SIGINT: fast shutdown). */
  private static final String WRAPPER =
      "\"$0\" \"$@\" </dev/null & pid=$!\n"
          + "cat >/dev/null\n"
          + "kill -INT $pid 2>/dev/null\n"
          + "wait $pid\n";

  private final Path baseDir;
  private final Path dataDir;
  private final List<String> settings;
  private Process process;
  private Thread shutdownHook;
  private int port;

  private PostgresServer(Path baseDir, List<String> settings) {
    this.baseDir = baseDir;
    this.settings = settings;
    this.dataDir = baseDir.resolve("data");
  }

  /**
   * Creates a cluster and starts it; returns once it accepts connections.
   *
   * @param settings server settings ({@code name=value}) over the defaults, e.g. {@code wal_level=replica} for a
   *     server that cannot serve logical replication
   */
  public static PostgresServer start(String... settings) {
    if (!Files.isExecutable(BIN.resolve("initdb"))) {
      throw new IllegalStateException(BIN.resolve("initdb") + " is missing: install the Debian package postgresql-15 (scripts/test.sh does)");
    }
    PostgresServer server = new PostgresServer(Path.of("target", "postgres", "pg-" + UUID.randomUUID()).toAbsolutePath(), List.of(settings));
    server.init();
    server.startWithRetries();
    return server;
  }

  public int port() {
    return port;
  }

  /** {@code postgresql://USER@127.0.0.1:PORT/DATABASE} for the superuser, no password. */
  public String uri(String database) {
    return "postgresql://" + SUPERUSER + "@127.0.0.1:" + port + "/" + database;
  }

  /** Creates a database (owned by the superuser); returns its name. */
  public String createDatabase(String name) {
    psql("postgres", "CREATE DATABASE " + name);
    return name;
  }

  /** Runs SQL through {@code psql} as the superuser; returns its unaligned, tuples-only output. */
  public String psql(String database, String sql) {
    List<String> command = List.of(BIN.resolve("psql").toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
        "-p", Integer.toString(port), "-U", SUPERUSER, "-d", database, "-c", sql);
    return run(command, "psql " + sql);
  }

  /** Stops the server with SIGKILL, as a crash would (open transactions are lost); {@link #startAgain()} recovers it. */
  public synchronized void crash() {
    Process wrapper = process;
    wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
    TestProcesses.terminate(wrapper, 15);
  }

  /** Starts the server again on the same port and data (after {@link #crash()}). */
  public synchronized void startAgain() {
    Process started = launch(port, baseDir.resolve("postgres-again-" + System.nanoTime() + ".log"));
    String failure = awaitReady(started, port);
    if (failure != null) {
      TestProcesses.terminate(started, 15);
      throw new IllegalStateException("PostgreSQL did not come back on port " + port + ": " + failure);
    }
    process = started;
  }

  public synchronized void stop() {
    if (process == null && shutdownHook == null) {
      return;
    }
    if (process != null) {
      TestProcesses.terminate(process, 15);
      process = null;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to
    }
    shutdownHook = null;
    TestProcesses.deleteRecursively(baseDir);
  }

  @Override
  public void close() {
    stop();
  }

  private void init() {
    try {
      Files.createDirectories(baseDir);
      asOwner(baseDir);
      run(asServerUser(List.of(BIN.resolve("initdb").toString(), "-D", dataDir.toString(), "-U", SUPERUSER, "--auth=trust",
          "-E", "UTF8", "--no-sync", "--no-instructions")), "initdb");
      // First match wins: the password role must authenticate over TCP; everyone else is trusted.
      Files.writeString(dataDir.resolve("pg_hba.conf"), String.join("\n",
          "local all all trust",
          "host all " + PASSWORD_USER + " 127.0.0.1/32 scram-sha-256",
          "host all " + PASSWORD_USER + " ::1/128 scram-sha-256",
          "host all all 127.0.0.1/32 trust",
          "host all all ::1/128 trust", ""), StandardCharsets.UTF_8);
      asOwner(dataDir.resolve("pg_hba.conf"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void startWithRetries() {
    List<String> failures = new ArrayList<>();
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      int candidate = TestProcesses.freePort();
      Process started = launch(candidate, baseDir.resolve("postgres-" + attempt + ".log"));
      String failure = awaitReady(started, candidate);
      if (failure == null) {
        process = started;
        port = candidate;
        shutdownHook = new Thread(() -> {
          Process p = process;
          if (p != null) {
            TestProcesses.terminate(p, 15);
          }
        }, "postgres-test-server-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        psql("postgres", "CREATE ROLE " + PASSWORD_USER + " LOGIN SUPERUSER PASSWORD '" + PASSWORD + "'");
        return;
      }
      TestProcesses.terminate(started, 15);
      failures.add("attempt " + attempt + " (port " + candidate + "): " + failure);
    }
    throw new IllegalStateException("PostgreSQL did not start:\n" + String.join("\n", failures));
  }

  private Process launch(int onPort, Path log) {
    List<String> command = new ArrayList<>(List.of("sh", "-c", WRAPPER, BIN.resolve("postgres").toString(), "-D", dataDir.toString(),
        "-p", Integer.toString(onPort), "-k", baseDir.toString(), "-c", "listen_addresses=127.0.0.1",
        "-c", "wal_level=logical", "-c", "max_replication_slots=20", "-c", "max_wal_senders=20", "-c", "fsync=off",
        "-c", "full_page_writes=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"));
    settings.forEach(setting -> command.addAll(List.of("-c", setting))); // later -c options win
    try {
      return new ProcessBuilder(asServerUser(command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot launch postgres", e);
    }
  }

  private String awaitReady(Process started, int onPort) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!started.isAlive()) {
        return "postgres exited with " + started.exitValue() + ": " + tailOfLogs();
      }
      try {
        Process ready = new ProcessBuilder(BIN.resolve("pg_isready").toString(), "-q", "-h", "127.0.0.1", "-p", Integer.toString(onPort))
            .redirectErrorStream(true).start();
        if (ready.waitFor(5, TimeUnit.SECONDS) && ready.exitValue() == 0) {
          return null;
        }
        started.waitFor(100, TimeUnit.MILLISECONDS);
      } catch (IOException e) {
        return "pg_isready: " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }
    return "not ready within " + READY_TIMEOUT + ": " + tailOfLogs();
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static List<String> asServerUser(List<String> command) {
    if (!root()) {
      return command;
    }
    List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    out.addAll(command);
    return out;
  }

  private static void asOwner(Path path) {
    if (root()) {
      run(List.of("chown", "-R", "postgres:postgres", path.toString()), "chown");
    }
  }

  private static String run(List<String> command, String what) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(what + " failed: " + new String(out, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + " interrupted", e);
    }
  }

  private String tailOfLogs() {
    try (Stream<Path> logs = Files.list(baseDir)) {
      StringBuilder out = new StringBuilder();
      for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
        List<String> lines = Files.readAllLines(log);
        out.append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
      }
      return out.toString();
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

}
