package io.feedline.node.cli;

import io.feedline.node.admin.AdminJson;
import io.feedline.proto.AdminGrpcClient;
import io.feedline.proto.ChangefeedRef;
import io.feedline.proto.ChangefeedView;
import io.feedline.proto.CreateChangefeedRequest;
import io.feedline.proto.ListChangefeedsRequest;
import io.feedline.proto.ResumeChangefeedRequest;
import io.feedline.proto.UpdateChangefeedRequest;
import io.vertx.grpc.common.ServiceMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code feedline cli changefeed ...}. */
@Command(name = "changefeed", mixinStandardHelpOptions = true, description = "Create, list, query, update, pause, resume and remove changefeeds.")
final class ChangefeedCommand implements Runnable {

  @ParentCommand
  CliCommand cli;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: give one of " + spec.subcommands().keySet());
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a changefeed.")
  int create(
      @Option(names = "--id", required = true, paramLabel = "ID", description = "Changefeed id.") String id,
      @Option(names = "--source", required = true, paramLabel = "URI", description = "Source URI, e.g. datagen://?tables=3.") String source,
      @Option(names = "--sink", required = true, paramLabel = "URI", description = "Sink URI, e.g. file:///tmp/out or blackhole://.") String sink,
      @Option(names = "--start-ts", paramLabel = "TS", defaultValue = "0", description = "Start timestamp (TSO); 0 = now.") long startTs) {
    return one(AdminGrpcClient.CreateChangefeed,
        CreateChangefeedRequest.newBuilder().setId(id).setSourceUri(source).setSinkUri(sink).setStartTs(startTs).build());
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List every changefeed.")
  int list() {
    return cli.call(spec, AdminGrpcClient.ListChangefeeds, ListChangefeedsRequest.getDefaultInstance(),
        r -> Tables.changefeeds(r.getChangefeedsList()), r -> AdminJson.changefeeds(r.getChangefeedsList()));
  }

  @Command(name = "query", mixinStandardHelpOptions = true, description = "Show one changefeed.")
  int query(@Option(names = "--id", required = true, paramLabel = "ID") String id) {
    return one(AdminGrpcClient.QueryChangefeed, ref(id));
  }

  @Command(name = "update", mixinStandardHelpOptions = true, description = "Change the sink of a paused changefeed.")
  int update(@Option(names = "--id", required = true, paramLabel = "ID") String id,
      @Option(names = "--sink", required = true, paramLabel = "URI", description = "New sink URI.") String sink) {
    return one(AdminGrpcClient.UpdateChangefeed, UpdateChangefeedRequest.newBuilder().setId(id).setSinkUri(sink).build());
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a changefeed (its maintainer and dispatchers stop).")
  int pause(@Option(names = "--id", required = true, paramLabel = "ID") String id) {
    return one(AdminGrpcClient.PauseChangefeed, ref(id));
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused or failed changefeed from its checkpoint.")
  int resume(@Option(names = "--id", required = true, paramLabel = "ID") String id) {
    return one(AdminGrpcClient.ResumeChangefeed, ResumeChangefeedRequest.newBuilder().setId(id).build());
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a changefeed.")
  int remove(@Option(names = "--id", required = true, paramLabel = "ID") String id) {
    return one(AdminGrpcClient.RemoveChangefeed, ref(id));
  }

  private <Req> int one(ServiceMethod<ChangefeedView, Req> method, Req request) {
    return cli.call(spec, method, request, Tables::changefeed, AdminJson::changefeed);
  }

  private static ChangefeedRef ref(String id) {
    return ChangefeedRef.newBuilder().setId(id).build();
  }
}
