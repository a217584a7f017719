package io.feedline.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the test servers ({@link EtcdServer}, {@link PostgresServer}) share: they run under an {@code sh}
 * wrapper that stops the server when its stdin (a pipe from this JVM) closes, on free loopback ports, in a
 * directory under {@code target/} removed afterwards.
 */
final class TestProcesses {

  private TestProcesses() {}

  /** Closing the wrapper's stdin makes it stop the server and exit; force only if that does not work in time. */
  static void terminate(Process wrapper, long seconds) {
    try {
      wrapper.getOutputStream().close();
      if (!wrapper.waitFor(seconds, TimeUnit.SECONDS)) {
        wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
        wrapper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
      wrapper.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      wrapper.descendants().forEach(ProcessHandle::destroyForcibly);
      wrapper.destroyForcibly();
    }
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
