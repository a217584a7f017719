package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.manager.DispatcherManager;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.ComponentState;
import io.feedline.proto.DispatcherHeartbeat;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.SpanStatus;
import io.feedline.proto.TableSpan;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * TiCDC #5083, replayed deterministically: the previous maintainer's create for a span is delayed in the
 * network and arrives after the new maintainer has bootstrapped and placed the same span. Whatever the
 * arrival order, no second dispatcher for the span may ever reach Working.
 */
class StaleCreateRaceTest {

  private static final String CF = "cf1";
  private static final ChangefeedId CFID = ChangefeedId.of(CF);
  private static final NodeId OLD = NodeId.of("old-maintainer-node");
  private static final NodeId NEW = NodeId.of("new-maintainer-node");
  private static final TableSpan SPAN = table(2);
  private static final DispatcherKey OLD_DISPATCHER = id(0x01D);
  private static final DispatcherKey NEW_DISPATCHER = id(0x0E3);

  private final OrchestratorFixture f = new OrchestratorFixture();
  private final Set<DispatcherKey> everWorking = new HashSet<>();

  /** Checked after every step: the invariant, from what this node tells the world and writes. */
  private void assertSingleWriter() {
    f.scheduler.advance(OrchestratorFixture.HEARTBEAT.toMillis());
    DispatcherManager m = f.orchestrator.manager(CFID).manager();
    long working = m.dispatcherIds().stream().filter(d -> m.state(d) == ComponentState.COMPONENT_STATE_WORKING).count();
    assertThat(working).as("Working dispatchers for the span").isLessThanOrEqualTo(1);
    for (DispatcherHeartbeat hb : f.outbox.of(DispatcherHeartbeat.class)) {
      for (SpanStatus s : hb.getStatusesList()) {
        if (s.getState() == ComponentState.COMPONENT_STATE_WORKING) {
          everWorking.add(DispatcherKey.of(s.getId()));
        }
      }
    }
    assertThat(everWorking).as("dispatchers ever reported Working").doesNotContain(OLD_DISPATCHER);
    assertThat(f.endpoints.sink("race").written()).allSatisfy(batch -> assertThat(batch.dispatcher()).isNotEqualTo(OLD_DISPATCHER));
  }

  private void oldMaintainerBootstrapsAt5() {
    f.deliver(OLD, Requests.bootstrap(CF, 5, "test://race"));
    assertSingleWriter();
  }

  private void newMaintainerBootstrapsAt6() {
    f.deliver(NEW, Requests.bootstrap(CF, 6, "test://race"));
    assertSingleWriter();
  }

  private void newMaintainerCreates() {
    f.deliver(NEW, Requests.create(CF, 6, NEW_DISPATCHER, SPAN));
    assertSingleWriter();
  }

  private void delayedOldCreateArrives() {
    f.deliver(OLD, Requests.create(CF, 5, OLD_DISPATCHER, SPAN));
    assertSingleWriter();
  }

  @Test
  void theDelayedCreateArrivesAfterTheNewOwnerPlacedTheSpan() {
    oldMaintainerBootstrapsAt5();
    newMaintainerBootstrapsAt6();
    assertThat(f.outbox.last(MaintainerBootstrapResponse.class).getDispatchersList()).isEmpty();
    newMaintainerCreates();
    delayedOldCreateArrives();
    assertThat(f.rejections("ScheduleDispatcherRequest", "stale_epoch")).isEqualTo(1);
    assertThat(f.orchestrator.manager(CFID).manager().dispatcherIds()).containsExactly(NEW_DISPATCHER);
    assertThat(everWorking).containsExactly(NEW_DISPATCHER);
    assertThat(f.endpoints.sink("race").written()).isNotEmpty();
  }

  @Test
  void theDelayedCreateArrivesBetweenTheNewBootstrapAndTheNewCreate() {
    oldMaintainerBootstrapsAt5();
    newMaintainerBootstrapsAt6();
    delayedOldCreateArrives();
    newMaintainerCreates();
    assertThat(f.orchestrator.manager(CFID).manager().dispatcherIds()).containsExactly(NEW_DISPATCHER);
    assertThat(everWorking).containsExactly(NEW_DISPATCHER);
  }

  /**
   * The old create arrives first and is still starting (its subscription hangs) when the new owner
   * bootstraps: the new owner sees it in the snapshot without a create operator, and its own create for
   * the span is refused until the old one is removed, so the span never has two writers here.
   */
  @Test
  void theOldCreateArrivesFirstAndIsStillStartingWhenTheNewOwnerBootstraps() {
    f.endpoints.holdSubscribeOfNewSources();
    oldMaintainerBootstrapsAt5();
    delayedOldCreateArrives();
    newMaintainerBootstrapsAt6();
    MaintainerBootstrapResponse snapshot = f.outbox.last(MaintainerBootstrapResponse.class);
    assertThat(snapshot.getDispatchersList()).singleElement()
        .satisfies(d -> assertThat(d.getState()).isEqualTo(ComponentState.COMPONENT_STATE_INITIALIZING));
    assertThat(snapshot.getOperatorsList()).as("the stale create is not restored as an operator").isEmpty();

    newMaintainerCreates();
    assertThat(f.notices("ScheduleDispatcherRequest", "span_overlap")).isEqualTo(1);
    f.deliver(NEW, Requests.remove(CF, 6, OLD_DISPATCHER));
    assertSingleWriter();
    f.endpoints.lastSource().releaseSubscribe();
    assertSingleWriter();
    newMaintainerCreates(); // the maintainer's resend
    assertThat(f.orchestrator.manager(CFID).manager().dispatcherIds()).containsExactly(NEW_DISPATCHER);
    assertThat(everWorking).containsExactly(NEW_DISPATCHER);
    assertThat(List.copyOf(f.endpoints.sink("race").written())).allSatisfy(b -> assertThat(b.dispatcher()).isEqualTo(NEW_DISPATCHER));
  }
}
