package io.feedline.dispatcher;

import static io.feedline.dispatcher.testing.Requests.id;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.feedline.common.config.NodeConfig;
import io.feedline.common.config.Timings;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.ControlBus;
import io.feedline.common.messaging.Role;
import io.feedline.common.node.NodeContext;
import io.feedline.common.testing.Eventually;
import io.feedline.common.testing.ReceivedMessages;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.BarrierAction;
import io.feedline.proto.BlockStage;
import io.feedline.proto.BlockState;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.DispatcherAction;
import io.feedline.proto.HeartbeatResponse;
import io.feedline.proto.InfluenceType;
import io.feedline.proto.InfluencedTables;
import io.feedline.proto.MaintainerBootstrapRequest;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.SpanBlockStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dispatcher side of the DDL barrier on a real event bus, writing to a real file sink, driven by a
 * test playing the maintainer: the trigger and a span of table 1 both block at table 1's first DDL after
 * its create; the DDL appears in {@code ddl.jsonl} exactly once, written by the trigger on WRITE (resent,
 * and never on a stale epoch's WRITE), and rows of table 1 above it are written only after the PASS.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS) // the whole test: its waits have no deadline of their own (Eventually)
class DdlBarrierFileSinkTest {

  private static final NodeId NODE = NodeId.of("dispatcher-node");
  private static final NodeId MAINTAINER = NodeId.of("maintainer-node");
  private static final String CF = "cf1";
  private static final long EPOCH = 5;
  private static final DispatcherKey TRIGGER = id(0x7);
  private static final DispatcherKey SPAN_1 = id(0x10);
  private static final int TABLES = 2;

  private final ReceivedMessages received = new ReceivedMessages();
  /** The latest block state each dispatcher reported. */
  private final Map<DispatcherKey, BlockState> blockStates = new ConcurrentHashMap<>();
  /** Every (dispatcher, ts) reported DONE: a dispatcher may block at its next DDL right after. */
  private final Set<String> done = ConcurrentHashMap.newKeySet();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private ControlBus maintainerBus;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    NodeConfig config = new NodeConfig("127.0.0.1", 0, Path.of("target"), List.of(), false, "test", null, "127.0.0.1", Timings.DEFAULTS);
    NodeContext node = new NodeContext(NODE, 1, config, null, null, null, null, new ControlBus(vertx, NODE, metrics), metrics);
    DispatcherOrchestratorVerticle verticle = new DispatcherOrchestratorVerticle(node, action -> {}, new ProviderEndpoints());
    maintainerBus = new ControlBus(vertx, MAINTAINER, metrics);
    maintainerBus.register(Role.MAINTAINER_MANAGER, in -> {
      if (in.payload() instanceof BlockStatusRequest r) {
        for (SpanBlockStatus s : r.getStatusesList()) {
          blockStates.put(DispatcherKey.of(s.getId()), s.getState());
          if (s.getState().getStage() == BlockStage.BLOCK_STAGE_DONE) {
            done.add(DispatcherKey.of(s.getId()) + "@" + s.getState().getBlockTs());
          }
        }
      }
      received.add(in.payload());
    }).compose(registered -> vertx.deployVerticle(verticle)).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void theWriterWritesTheDdlOnceAndTheSpanWritesNothingAboveItBeforeThePass(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    DatagenModel model = DatagenModel.of(new DatagenSpec(TABLES, 7, 0, 0));
    long createTick = model.firstCreateTick(1);
    long createTs = model.ddlAt(1, createTick).commitTs();
    long ddlTick = createTick + 1;
    while (model.ddlAt(1, ddlTick) == null) {
      ddlTick++;
    }
    DdlEvent ddl = model.ddlAt(1, ddlTick);
    long t = ddl.commitTs();
    long until = model.timeline().commitTs(ddlTick + 2_000);
    String source = "datagen://?tables=" + TABLES + "&seed=7&until=" + until;

    send(MaintainerBootstrapRequest.newBuilder().setChangefeedId(CF).setEpoch(EPOCH).setStartTs(0)
        .setConfig(ByteString.copyFrom(Requests.config(source, "file://" + dir.toAbsolutePath())))
        .setTableTriggerEventDispatcherId(TRIGGER.proto()).build());
    received.next(MaintainerBootstrapResponse.class)
        .compose(bootstrapped -> {
          send(Requests.postBootstrap(CF, EPOCH, TRIGGER));
          // A span of table 1 exists from table 1's create ts on.
          send(Requests.schedule(CF, EPOCH, Requests.createItem(SPAN_1, Requests.table(1), createTs)));
          // Play the maintainer for every DDL before t: they involve only the trigger (no other spans here).
          return Eventually.until(vertx, "trigger and span blocked at " + t, () -> {
            BlockState trigger = blockStates.get(TRIGGER);
            if (trigger != null && trigger.getBlocked() && trigger.getStage() == BlockStage.BLOCK_STAGE_WAITING && trigger.getBlockTs() < t) {
              assertThat(trigger.getBlockedTables().getTableIdsList()).doesNotContain(1L);
              send(action(EPOCH, BarrierAction.BARRIER_ACTION_WRITE, trigger.getBlockTs(), 0));
            }
            return waitingAt(TRIGGER, t) && waitingAt(SPAN_1, t);
          });
        })
        .compose(blocked -> {
          assertThat(blockStates.get(SPAN_1).getBlockedTables().getTableIdsList()).containsExactly(0L, 1L);
          assertThat(ddlLinesAt(dir, t)).isZero();
          assertThat(rowTs(dir)).as("rows below the DDL are written").isNotEmpty().allSatisfy(ts -> assertThat(ts).isLessThan(t));
          // A WRITE from a stale ownership is dropped and counted; the trigger keeps waiting.
          send(action(EPOCH - 1, BarrierAction.BARRIER_ACTION_WRITE, t, 0));
          return Eventually.until(vertx, "stale WRITE counted", () -> rejections("stale_epoch") == 1);
        })
        .compose(counted -> {
          // A status sent after the stale WRITE was handled.
          received.skipReceived();
          return received.next(BlockStatusRequest.class);
        })
        .compose(status -> {
          assertThat(waitingAt(TRIGGER, t)).as("still waiting after the stale WRITE").isTrue();
          assertThat(ddlLinesAt(dir, t)).isZero();
          // WRITE, resent: written once, DONE reported.
          send(action(EPOCH, BarrierAction.BARRIER_ACTION_WRITE, t, 0));
          send(action(EPOCH, BarrierAction.BARRIER_ACTION_WRITE, t, 0));
          return Eventually.until(vertx, "trigger done at " + t, () -> doneAt(TRIGGER, t));
        })
        .compose(triggerDone -> {
          send(action(EPOCH, BarrierAction.BARRIER_ACTION_WRITE, t, 0));
          assertThat(ddlLinesAt(dir, t)).isEqualTo(1);
          return Eventually.holdsFor(vertx, Duration.ofMillis(500), "the span waits and writes nothing above t before its PASS",
              () -> waitingAt(SPAN_1, t) && rowTs(dir).stream().allMatch(ts -> ts < t));
        })
        .compose(held -> {
          send(action(EPOCH, BarrierAction.BARRIER_ACTION_PASS, t, 1));
          return Eventually.until(vertx, "span done at " + t, () -> doneAt(SPAN_1, t));
        })
        .compose(spanDone -> Eventually.until(vertx, "rows above t written after the PASS", () -> rowTs(dir).stream().anyMatch(ts -> ts > t)))
        .onComplete(ctx.succeeding(passed -> ctx.verify(() -> {
          assertThat(ddlLinesAt(dir, t)).as("the span passed: still exactly one line").isEqualTo(1);
          ctx.completeNow();
        })));
  }

  private boolean waitingAt(DispatcherKey ref, long ts) {
    BlockState s = blockStates.get(ref);
    return s != null && s.getBlocked() && s.getBlockTs() == ts && s.getStage() == BlockStage.BLOCK_STAGE_WAITING;
  }

  private boolean doneAt(DispatcherKey ref, long ts) {
    return done.contains(ref + "@" + ts);
  }

  private double rejections(String reason) {
    Counter c = metrics.find("feedline.fence.rejections").tag("type", "HeartbeatResponse").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  private static HeartbeatResponse action(long epoch, BarrierAction action, long commitTs, long table) {
    return HeartbeatResponse.newBuilder().setChangefeedId(CF).setEpoch(epoch).addActions(DispatcherAction.newBuilder()
        .setAction(action).setCommitTs(commitTs)
        .setInfluenced(InfluencedTables.newBuilder().setType(InfluenceType.INFLUENCE_TYPE_NORMAL).addTableIds(table))).build();
  }

  private void send(Message request) {
    maintainerBus.send(NODE, Role.DISPATCHER_ORCHESTRATOR, request);
  }

  private static long ddlLinesAt(Path dir, long ts) {
    Path file = FileSink.tableFile(dir, 0, false);
    try {
      return Files.exists(file) ? Files.readAllLines(file).stream().filter(l -> new JsonObject(l).getLong("commitTs") == ts).count() : 0;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static List<Long> rowTs(Path dir) {
    Path file = FileSink.tableFile(dir, 1, false);
    try {
      return Files.exists(file) ? Files.readAllLines(file).stream().map(l -> new JsonObject(l).getLong("commitTs")).toList() : List.of();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
