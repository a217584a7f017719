package io.feedline.node.failover;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.dataplane.DataPlane;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.manager.DispatcherManager;
import io.feedline.dispatcher.manager.ManagerRuntime;
import io.feedline.dispatcher.orchestrator.DispatcherOrchestrator;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.maintainer.DispatcherReplies;
import io.feedline.maintainer.MaintainerServices;
import io.feedline.maintainer.changefeed.ChangefeedMaintainer;
import io.feedline.maintainer.changefeed.MaintainerConfig;
import io.feedline.maintainer.changefeed.MaintainerRuntime;
import io.feedline.common.span.TableSpans;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.BlockStatusRequest;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.MaintainerCloseResponse;
import io.feedline.proto.MaintainerPostBootstrapResponse;
import io.feedline.proto.OperatorType;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The maintainer's node fails while a span operator is in flight; a new maintainer at a higher epoch on
 * another node takes over from the real dispatcher side (orchestrators, dispatcher managers, datagen
 * dispatchers, blackhole sinks) of the surviving nodes. Afterwards every span has exactly one Working
 * dispatcher, every table is covered exactly, and no dispatcher is left that the maintainer does not
 * know. Three nodes on one manual clock; messages are delivered in order on the next turn, and a dead
 * node neither sends nor receives.
 */
class MaintainerFailoverTest {

  private static final ChangefeedId CF = ChangefeedId.of("cf1");
  private static final NodeId A = NodeId.of("a");
  private static final NodeId B = NodeId.of("b");
  private static final NodeId C = NodeId.of("c");
  private static final int TABLES = 6;
  private static final String SOURCE = "datagen://?tables=" + TABLES + "&seed=1&rate=1";
  /**
   * One upstream tick per second; the changefeed starts inside a stretch in which every table exists, 10 ticks
   * after its start (no table is created at the start ts), until the test ends (4 waits of at most 30 s of
   * simulated time and 1 s more).
   */
  private static final long START_TICK = everyTableExistsFrom(DatagenModel.of(DatagenSpec.parse(EndpointUri.parse("source", SOURCE))), 310) + 10;
  private static final long START_TS = TickTimeline.forRate(1).commitTs(START_TICK);
  private static final ChangefeedInfo INFO = ChangefeedInfo.newBuilder().setId(CF.value()).setSourceUri(SOURCE).setSinkUri("blackhole://").build();

  /**
   * The operator the failing maintainer has in flight when its node dies: the node dies right after the
   * {@code nth} schedule request of that operator type reached a dispatcher manager (for ADD, the third:
   * the creates of the first placement reached all three nodes).
   */
  enum InFlight {
    ADD(OperatorType.OPERATOR_TYPE_ADD, 3),
    MOVE_ORIGIN_STOPPING(OperatorType.OPERATOR_TYPE_MOVE, 1),
    MOVE_DESTINATION_CREATING(OperatorType.OPERATOR_TYPE_MOVE, 2),
    MOVE_TO_THE_FAILING_NODE(OperatorType.OPERATOR_TYPE_MOVE, 2),
    SPLIT(OperatorType.OPERATOR_TYPE_SPLIT, 1),
    MERGE(OperatorType.OPERATOR_TYPE_MERGE, 1);

    final OperatorType type;
    final int nth;

    InFlight(OperatorType type, int nth) {
      this.type = type;
      this.nth = nth;
    }
  }

  private final ManualScheduler clock = new ManualScheduler(START_TICK * 1_000);
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final Map<NodeId, DispatcherOrchestrator> orchestrators = new LinkedHashMap<>();
  private final Map<NodeId, MaintainerRuntime> maintainers = new LinkedHashMap<>();
  private final DispatcherReplies replies = new DispatcherReplies(A, metrics);
  private final Set<NodeId> live = new TreeSet<>(List.of(A, B, C));
  /** When set, node A dies right after the nth schedule request of this operator type is delivered. */
  private InFlight crashAt;
  private int seen;

  private DispatcherOrchestrator orchestrator(NodeId node) {
    return orchestrators.computeIfAbsent(node, n -> new DispatcherOrchestrator(n, new ProviderEndpoints(),
        DataPlane.onScheduler(clock, 64L << 20, metrics), clock, (to, role, payload) -> send(n, to, role, payload), metrics, Duration.ofMillis(200)));
  }

  private void send(NodeId from, NodeId to, Role role, Message payload) {
    if (!live.contains(from)) {
      return;
    }
    clock.schedule(0, () -> {
      if (!live.contains(from) || !live.contains(to)) {
        return;
      }
      if (role == Role.DISPATCHER_ORCHESTRATOR) {
        orchestrator(to).handle(from, payload);
        if (crashAt != null && payload instanceof ScheduleDispatcherRequest r && from.equals(A)
            && r.getItemsList().stream().anyMatch(i -> i.getOperatorType() == crashAt.type) && ++seen == crashAt.nth) {
          crashAt = null;
          crash(A);
        }
      } else if (role == Role.MAINTAINER_MANAGER && isForMaintainer(payload) && maintainers.containsKey(to)) {
        // Through the door a node's maintainer manager puts before its maintainers.
        MaintainerRuntime maintainer = maintainers.get(to);
        if (replies.admit(Inbound.of(from, payload), maintainer.changefeedId(), maintainer.epoch())) {
          maintainer.onDispatcherMessage(from, payload);
        }
      }
    });
  }

  private static boolean isForMaintainer(Message m) {
    return m instanceof MaintainerBootstrapResponse || m instanceof MaintainerPostBootstrapResponse || m instanceof DispatcherHeartbeat
        || m instanceof BlockStatusRequest || m instanceof MaintainerCloseResponse;
  }

  private MaintainerRuntime startMaintainer(NodeId node, long epoch, long checkpointTs) {
    live.forEach(this::orchestrator);
    MaintainerServices services = new MaintainerServices(node, (to, role, payload) -> send(node, to, role, payload), clock,
        Duration.ofMillis(500), () -> Set.copyOf(live));
    MaintainerConfig config = new MaintainerConfig(node, CF, epoch, INFO, checkpointTs, false, 500, 15_000, 10_000,
        new SplittableRandom(epoch), metrics);
    MaintainerRuntime runtime = new MaintainerRuntime(config, services, 100);
    maintainers.put(node, runtime);
    runtime.start();
    return runtime;
  }

  private void runFor(long millis) {
    for (long t = 0; t < millis; t += 10) {
      clock.advance(10);
    }
  }

  private void runUntil(java.util.function.BooleanSupplier done, String what) {
    for (int i = 0; i < 3_000; i++) {
      if (done.getAsBoolean()) {
        return;
      }
      clock.advance(10);
    }
    throw new AssertionError("not reached within 30s of simulated time: " + what);
  }

  private void crash(NodeId node) {
    live.remove(node);
    MaintainerRuntime m = maintainers.remove(node);
    if (m != null) {
      m.stop(false, false); // its timers die with the node
    }
  }

  private static boolean stable(ChangefeedMaintainer m) {
    return m.working() && m.operators().size() == 0 && m.spans().absent().isEmpty()
        && m.spans().all().stream().allMatch(SpanReplication::working);
  }

  /** The first tick from which every table of {@code model} exists for the next {@code ticks} ticks. */
  private static long everyTableExistsFrom(DatagenModel model, long ticks) {
    long from = 1;
    for (long tick = 1; tick < from + ticks; tick++) {
      for (long table = 1; table <= model.tables(); table++) {
        if (!model.existsAt(table, tick)) {
          from = tick + 1;
        }
      }
      if (tick > 1_000_000) {
        throw new IllegalStateException("no " + ticks + " ticks with every table in the first million");
      }
    }
    return from;
  }

  private static ByteString key(long k) {
    return ByteString.copyFrom(ByteBuffer.allocate(Long.BYTES).putLong(k).array());
  }

  @ParameterizedTest
  @EnumSource(InFlight.class)
  void afterTheMaintainersNodeFailsEverySpanHasExactlyOneWorkingDispatcherAndNoneLeaks(InFlight kind) {
    ChangefeedMaintainer first = startMaintainer(A, 10, START_TS).maintainer();
    if (kind == InFlight.ADD) {
      crashAt = kind; // creates are in flight right after the first bootstrap
    } else {
      runUntil(() -> stable(first), "the first maintainer placed every span");
      if (kind == InFlight.MERGE) {
        assertThat(first.split(TableSpans.wholeTable(1), List.of(key(100)))).isTrue();
        runUntil(() -> stable(first), "split done");
      }
      crashAt = kind;
      startOperator(first, kind);
    }
    runUntil(() -> !live.contains(A), "node A failed with " + kind + " in flight");
    assertThat(first.operators().size()).as("%s in flight", kind).isPositive();
    long persisted = first.status().getCheckpointTs();

    ChangefeedMaintainer second = startMaintainer(B, 11, persisted).maintainer();
    runUntil(() -> stable(second) && noLeak(second), "the new maintainer converged: " + second.operators().describe());
    runFor(1_000);

    assertExactlyOneWorkingDispatcherPerSpan(second);
    assertThat(second.status().getCheckpointTs()).isGreaterThanOrEqualTo(persisted);
    assertThat(second.status().getBootstrapDone()).isTrue();
  }

  private void startOperator(ChangefeedMaintainer m, InFlight kind) {
    TableSpan t1 = TableSpans.wholeTable(1);
    switch (kind) {
      case MOVE_ORIGIN_STOPPING, MOVE_DESTINATION_CREATING -> {
        SpanReplication r = spanNotOn(m, A);
        assertThat(m.move(r.span(), r.node().equals(B) ? C : B)).isTrue();
      }
      case MOVE_TO_THE_FAILING_NODE -> {
        SpanReplication r = spanNotOn(m, A);
        assertThat(m.move(r.span(), A)).isTrue();
      }
      case SPLIT -> assertThat(m.split(t1, List.of(key(100), key(200)))).isTrue();
      case MERGE -> assertThat(m.merge(m.spans().ofTable(1))).isTrue();
      default -> throw new IllegalArgumentException(kind.name());
    }
  }

  private static SpanReplication spanNotOn(ChangefeedMaintainer m, NodeId node) {
    return m.spans().all().stream().filter(r -> !r.node().equals(node)).findFirst().orElseThrow();
  }

  /** Every live dispatcher on a live node is the trigger or the current dispatcher of a span, on that node. */
  private boolean noLeak(ChangefeedMaintainer m) {
    for (NodeId node : live) {
      ManagerRuntime runtime = orchestrator(node).manager(CF);
      if (runtime == null) {
        continue;
      }
      DispatcherManager manager = runtime.manager();
      for (DispatcherKey id : manager.dispatcherIds()) {
        if (id.equals(m.trigger())) {
          continue;
        }
        SpanReplication r = m.spans().byDispatcher(id);
        if (r == null || !r.node().equals(node)) {
          return false;
        }
      }
    }
    return true;
  }

  private void assertExactlyOneWorkingDispatcherPerSpan(ChangefeedMaintainer m) {
    int live = 0;
    for (NodeId node : this.live) {
      ManagerRuntime runtime = orchestrator(node).manager(CF);
      live += runtime == null ? 0 : runtime.manager().dispatcherIds().size();
    }
    assertThat(noLeak(m)).as("no dispatcher the maintainer does not know").isTrue();
    assertThat(live).as("one dispatcher per span plus the table trigger").isEqualTo(m.spans().size() + 1);
    Set<DispatcherKey> seen = new HashSet<>();
    for (SpanReplication r : m.spans().all()) {
      assertThat(this.live).contains(r.node());
      DispatcherManager manager = orchestrator(r.node()).manager(CF).manager();
      assertThat(manager.state(r.dispatcher()))
          .as("%s", r).isEqualTo(ComponentState.COMPONENT_STATE_WORKING);
      assertThat(seen.add(r.dispatcher())).isTrue();
    }
    DispatcherManager own = orchestrator(B).manager(CF).manager();
    assertThat(own.eventTrigger()).isEqualTo(m.trigger());
    for (long table = 1; table <= TABLES; table++) {
      List<TableSpan> spans = new ArrayList<>(m.spans().ofTable(table));
      assertThat(spans).as("table %d is replicated", table).isNotEmpty();
      assertThat(TableSpans.gaps(table, spans)).as("table %d is covered exactly", table).isEmpty();
      for (int i = 0; i < spans.size(); i++) {
        for (int j = i + 1; j < spans.size(); j++) {
          assertThat(TableSpans.overlaps(spans.get(i), spans.get(j))).isFalse();
        }
      }
    }
  }
}
