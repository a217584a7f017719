package io.feedline.node.cli;

import io.feedline.node.admin.AdminError;
import io.feedline.node.admin.AdminJson;
import io.feedline.proto.AdminGrpcClient;
import io.feedline.proto.DrainNodeRequest;
import io.feedline.proto.ListNodesRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code feedline cli node ...}. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "List and drain nodes.")
final class NodeCommand implements Runnable {

  @ParentCommand
  CliCommand cli;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the nodes with their liveness, maintainer and dispatcher counts.")
  int list() {
    return cli.call(spec, AdminGrpcClient.ListNodes, ListNodesRequest.getDefaultInstance(),
        r -> Tables.nodes(r.getNodesList()), r -> AdminJson.nodes(r.getNodesList()));
  }

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = {"Move every maintainer and dispatcher off a node, then mark it STOPPING (safe to shut down).",
          "Waits with a progress bar until nothing is left on the node, unless --no-wait."})
  int drain(@Option(names = "--node", required = true, paramLabel = "NODE_ID") String node,
      @Option(names = "--no-wait", description = "Start the drain (if needed) and print what is left, without waiting.") boolean noWait,
      @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000",
          description = "How often to ask for progress while waiting, in ms (default ${DEFAULT-VALUE}).") long intervalMs) {
    DrainNodeRequest request = DrainNodeRequest.newBuilder().setNodeId(node).build();
    if (noWait) {
      return cli.call(spec, AdminGrpcClient.DrainNode, request,
          r -> "draining " + node + ": " + r.getRemaining() + " remaining", r -> new JsonObject().put("node", node).put("remaining", r.getRemaining()));
    }
    PrintWriter out = spec.commandLine().getOut();
    DrainProgressBar bar = new DrainProgressBar(node);
    try (CliCommand.Session session = cli.session(spec)) {
      long retryUntil = 0;
      while (true) {
        long remaining;
        try {
          remaining = session.call(AdminGrpcClient.DrainNode, request).getRemaining();
          retryUntil = 0;
        } catch (AdminError e) {
          // The coordinator moving (also when it hands over to drain its own node) is retried for a while.
          if (e.status() != GrpcStatus.UNAVAILABLE) {
            bar.end(out);
            return cli.failed(spec, e);
          }
          long now = System.nanoTime();
          retryUntil = retryUntil == 0 ? now + TimeUnit.SECONDS.toNanos(UNAVAILABLE_RETRY_SECONDS) : retryUntil;
          if (now > retryUntil) {
            bar.end(out);
            return cli.failed(spec, e);
          }
          sleep(intervalMs);
          continue;
        }
        if (cli.output == CliCommand.Output.table) {
          out.print(bar.render(remaining));
          out.flush();
        }
        if (remaining == 0) {
          if (cli.output == CliCommand.Output.json) {
            out.println(new JsonObject().put("node", node).put("remaining", 0));
          } else {
            out.println();
            out.println("node " + node + " is drained and STOPPING: it can be shut down");
          }
          out.flush();
          return CliCommand.EXIT_OK;
        }
        sleep(intervalMs);
      }
    }
  }

  private static final long UNAVAILABLE_RETRY_SECONDS = 30;

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminError(GrpcStatus.CANCELLED, "interrupted");
    }
  }

  /** One line redrawn in place: {@code draining n2 [#######-----------]  40 remaining}; the total is the most ever seen. */
  static final class DrainProgressBar {
    private static final int WIDTH = 30;
    private final String node;
    private long total;
    private boolean drawn;

    DrainProgressBar(String node) {
      this.node = node;
    }

    String render(long remaining) {
      total = Math.max(total, remaining);
      int done = total == 0 ? WIDTH : (int) ((total - remaining) * WIDTH / total);
      drawn = true;
      return "\rdraining " + node + " [" + "#".repeat(done) + "-".repeat(WIDTH - done) + "] " + remaining + " remaining  ";
    }

    /** Ends the line being redrawn, so what follows starts on its own line. */
    void end(PrintWriter out) {
      if (drawn) {
        out.println();
        out.flush();
      }
    }
  }
}
