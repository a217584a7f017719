package io.feedline.postgresql.sink;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback TCP proxy in front of PostgreSQL that, once armed, cuts the connection right after it passed a
 * client's {@code COMMIT} on: the server commits, the client never hears it (an ambiguous commit).
 */
final class CuttingProxy {

  private static final byte[] COMMIT = "COMMIT".getBytes(StandardCharsets.US_ASCII);

  private final AtomicBoolean armed = new AtomicBoolean();
  private final AtomicBoolean cut = new AtomicBoolean();
  private final NetServer server;

  private CuttingProxy(NetServer server) {
    this.server = server;
  }

  static Future<CuttingProxy> start(Vertx vertx, int targetPort) {
    NetClient client = vertx.createNetClient();
    NetServer server = vertx.createNetServer();
    CuttingProxy proxy = new CuttingProxy(server);
    server.connectHandler(front -> {
      front.pause();
      client.connect(targetPort, "127.0.0.1").onSuccess(back -> {
        back.handler(front::write);
        front.handler(bytes -> proxy.forward(bytes, front, back));
        front.closeHandler(v -> back.close());
        back.closeHandler(v -> front.close());
        front.resume();
      }).onFailure(err -> front.close());
    });
    return server.listen(0, "127.0.0.1").map(s -> proxy);
  }

  private void forward(Buffer bytes, NetSocket front, NetSocket back) {
    back.write(bytes);
    if (armed.get() && contains(bytes.getBytes(), COMMIT) && armed.compareAndSet(true, false)) {
      cut.set(true);
      // The server has the COMMIT; its answer must not reach the client. Closing our side of the client
      // connection first drops what the server sends back.
      back.pause();
      front.close();
    }
  }

  int port() {
    return server.actualPort();
  }

  /** The next COMMIT through the proxy is passed on, and then the connection is cut. */
  void cutAfterNextCommit() {
    cut.set(false);
    armed.set(true);
  }

  boolean didCut() {
    return cut.get();
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
