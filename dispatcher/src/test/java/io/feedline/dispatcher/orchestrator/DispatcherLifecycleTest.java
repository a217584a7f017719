package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static io.feedline.dispatcher.testing.Requests.table;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.dispatcher.DispatcherSpec;
import io.feedline.dispatcher.manager.DispatcherLifecycle;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.Requests;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle a node reports for its dispatchers: Working when the subscription is there (before any
 * write), stopped only once no write is in flight any more, also when the whole manager closes.
 */
class DispatcherLifecycleTest {

  private static final String CF = "cf1";
  private static final NodeId OWNER = NodeId.of("n1");

  private final OrchestratorFixture f = new OrchestratorFixture();
  private final List<String> events = new ArrayList<>();

  DispatcherLifecycleTest() {
    f.orchestrator.observeDispatchers(new DispatcherLifecycle() {
      @Override
      public void working(ChangefeedId changefeed, DispatcherSpec dispatcher) {
        events.add("working " + changefeed + " " + dispatcher.ref());
      }

      @Override
      public void stopped(ChangefeedId changefeed, DispatcherSpec dispatcher) {
        events.add("stopped " + changefeed + " " + dispatcher.ref());
      }
    });
  }

  @Test
  void aRemovedDispatcherIsReportedStoppedOnlyAfterItsWriteInFlightCompleted() {
    ControllableSink sink = f.endpoints.sink("held").holdWrites();
    f.deliver(OWNER, Requests.bootstrap(CF, 5, "test://held"));
    f.deliver(OWNER, Requests.create(CF, 5, id(1), table(1)));
    assertThat(events).containsExactly("working cf1 " + id(1));

    f.scheduler.advance(2_000);
    assertThat(sink.heldWriteCount()).as("a batch is being written").isPositive();
    f.deliver(OWNER, Requests.remove(CF, 5, id(1)));
    assertThat(events).as("its write may still land").containsExactly("working cf1 " + id(1));

    sink.releaseWrites();
    f.scheduler.runDue();
    assertThat(events).containsExactly("working cf1 " + id(1), "stopped cf1 " + id(1));
  }

  @Test
  void closingTheManagerReportsEveryDispatcherStoppedOnce() {
    f.deliver(OWNER, Requests.bootstrap(CF, 5));
    f.deliver(OWNER, Requests.schedule(CF, 5, Requests.createItem(id(1), table(1), 1), Requests.createItem(id(2), table(2), 1)));
    f.deliver(OWNER, Requests.close(CF, 5));
    f.deliver(OWNER, Requests.close(CF, 5));
    f.deliver(OWNER, Requests.remove(CF, 5, id(1)));

    assertThat(events).containsExactlyInAnyOrder("working cf1 " + id(1), "working cf1 " + id(2), "stopped cf1 " + id(1), "stopped cf1 " + id(2));
    assertThat(events.subList(0, 2)).allMatch(e -> e.startsWith("working"));
  }
}
