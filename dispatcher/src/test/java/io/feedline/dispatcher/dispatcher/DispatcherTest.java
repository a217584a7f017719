package io.feedline.dispatcher.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.dispatcher.testing.ControllableSink;
import io.feedline.dispatcher.testing.ControllableSource;
import io.feedline.dispatcher.testing.Requests;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DispatcherTest {

  private static final DispatcherRef ID = Requests.id(1);
  private static final long UNTIL_TICK = 5_000;
  private static final long UNTIL = TickTimeline.forRate(0).commitTs(UNTIL_TICK);

  private final ManualScheduler scheduler = new ManualScheduler(0);
  private final DatagenSource datagen = new DatagenSource(new DatagenSpec(4, 7, 0, UNTIL), scheduler);
  private final ControllableSink sink = new ControllableSink();
  private final List<Long> checkpoints = new ArrayList<>();
  private final List<String> events = new ArrayList<>();

  private final Dispatcher.Listener listener = new Dispatcher.Listener() {
    @Override
    public void working(DispatcherRef ref) {
      events.add("working");
    }

    @Override
    public void progressed(DispatcherRef ref, long checkpointTs, long resolvedTs) {
      checkpoints.add(checkpointTs);
    }

    @Override
    public void failed(DispatcherRef ref, Throwable cause) {
      events.add("failed: " + cause.getMessage());
    }
  };

  private Dispatcher dispatcher(Source source) {
    return new Dispatcher(new DispatcherSpec(ID, Requests.table(2), 0, false), source, sink, scheduler, listener, 50);
  }

  private long lastCheckpoint() {
    return checkpoints.isEmpty() ? 0 : checkpoints.get(checkpoints.size() - 1);
  }

  @Test
  void theCheckpointNeverPassesAnEventTheSinkHasNotMadeDurable() {
    sink.holdWrites();
    Dispatcher d = dispatcher(datagen);
    d.start();
    assertThat(events).containsExactly("working");
    for (int round = 0; round < 1_000 && lastCheckpoint() < UNTIL; round++) {
      scheduler.runDue();
      // One write in flight at a time is the backpressure.
      assertThat(sink.heldWriteCount()).isLessThanOrEqualTo(1);
      List<SinkBatch> written = sink.written();
      if (sink.heldWriteCount() == 1) {
        SinkBatch pending = written.get(written.size() - 1);
        long firstPendingTs = pending.events().get(0).commitTs();
        assertThat(lastCheckpoint()).as("checkpoint below the first event not yet durable").isLessThan(firstPendingTs);
        sink.releaseWrites();
        sink.holdWrites();
        assertThat(lastCheckpoint()).isEqualTo(pending.resolvedTs());
      }
    }
    assertThat(lastCheckpoint()).isEqualTo(UNTIL);
    assertThat(checkpoints).isSorted();
    List<ChangeEvent> all = sink.written().stream().flatMap(b -> b.events().stream()).toList();
    assertThat(all).isEqualTo(datagenHistory(0));
  }

  @Test
  void stopWaitsForTheWriteInFlightAndNothingIsWrittenAfter() {
    sink.holdWrites();
    Dispatcher d = dispatcher(datagen);
    d.start();
    scheduler.runDue();
    assertThat(sink.heldWriteCount()).isEqualTo(1);
    Future<Void> stopped = d.stop();
    assertThat(stopped.isComplete()).as("a write is still in flight").isFalse();
    int writes = sink.written().size();
    sink.releaseWrites();
    assertThat(stopped.succeeded()).isTrue();
    scheduler.advance(10_000);
    assertThat(sink.written()).hasSize(writes);
    assertThat(events).containsExactly("working");
    assertThat(d.stop()).isSameAs(stopped);
  }

  @Test
  void aFailingSubscribeOrSinkIsReportedOnceAndStopsTheDispatcher() {
    Dispatcher unreachable = dispatcher(new ControllableSource(datagen).failSubscribe());
    unreachable.start();
    assertThat(events).containsExactly("failed: upstream unreachable");
    assertThat(unreachable.stop().succeeded()).isTrue();

    events.clear();
    sink.close();
    Dispatcher closed = dispatcher(datagen);
    closed.start();
    scheduler.runDue();
    assertThat(events).containsExactly("working", "failed: controllable sink: write path closed");
  }

  @Test
  void stoppingWhileSubscribingNeverStartsWriting() {
    ControllableSource source = new ControllableSource(datagen).holdSubscribe();
    Dispatcher d = dispatcher(source);
    d.start();
    Future<Void> stopped = d.stop();
    source.releaseSubscribe();
    scheduler.runDue();
    assertThat(stopped.succeeded()).isTrue();
    assertThat(events).isEmpty();
    assertThat(sink.written()).isEmpty();
  }

  private List<ChangeEvent> datagenHistory(long after) {
    List<ChangeEvent> out = new ArrayList<>();
    for (long tick = after + 1; tick <= UNTIL_TICK; tick++) {
      datagen.model().eventsAt(2, tick).stream()
          .filter(e -> !(e instanceof DdlEvent ddl && ddl.type() == DdlEvent.Type.CREATE_TABLE))
          .forEach(out::add);
    }
    return out;
  }
}
