package io.feedline.dispatcher.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
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
import io.feedline.dispatcher.testing.TestLanes;
import io.feedline.proto.SpanHold;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class DispatcherTest {

  private static final DispatcherKey ID = Requests.id(1);
  private static final long UNTIL_TICK = 5_000;
  private static final long UNTIL = TickTimeline.forRate(0).commitTs(UNTIL_TICK);

  private final ManualScheduler scheduler = new ManualScheduler(0);
  private final DatagenSource datagen = new DatagenSource(new DatagenSpec(4, 7, 0, UNTIL), scheduler);
  private final ControllableSink sink = new ControllableSink();
  private final List<Long> checkpoints = new ArrayList<>();
  private final List<String> events = new ArrayList<>();
  /** The DDL the dispatcher reported being blocked at and not yet passed. */
  private DdlEvent blockedAt;

  private final Dispatcher.Listener listener = new Dispatcher.Listener() {
    @Override
    public void working(DispatcherKey ref) {
      events.add("working");
    }

    @Override
    public void progressed(DispatcherKey ref, long checkpointTs, long resolvedTs) {
      checkpoints.add(checkpointTs);
    }

    @Override
    public void blocked(DispatcherKey ref, DdlEvent ddl) {
      assertThat(blockedAt).isNull();
      blockedAt = ddl;
    }

    @Override
    public void passed(DispatcherKey ref, DdlEvent ddl, boolean written) {
      assertThat(ddl).isEqualTo(blockedAt);
      blockedAt = null;
      events.add((written ? "wrote " : "passed ") + ddl.type());
    }

    @Override
    public void failed(DispatcherKey ref, Throwable cause, SpanHold side) {
      events.add("failed in " + side.name().substring("SPAN_HOLD_".length()).toLowerCase(Locale.ROOT) + ": " + cause.getMessage());
    }
  };

  private Dispatcher dispatcher(Source source) {
    return dispatcher(source, false);
  }

  private Dispatcher dispatcher(Source source, boolean redo) {
    return new Dispatcher(new DispatcherSpec(ID, Requests.table(2), 0, redo), source, sink, TestLanes.tenant(scheduler), listener, 50, () -> 5L);
  }

  private List<ChangeEvent> writtenEvents() {
    return sink.written().stream().flatMap(b -> b.events().stream()).toList();
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
    List<ChangeEvent> passed = new ArrayList<>();
    boolean writeNext = true;
    for (int round = 0; round < 5_000 && lastCheckpoint() < UNTIL; round++) {
      scheduler.runDue();
      // One write in flight at a time is the backpressure.
      assertThat(sink.heldWriteCount()).isLessThanOrEqualTo(1);
      List<SinkBatch> written = sink.written();
      if (sink.heldWriteCount() == 1) {
        SinkBatch pending = written.get(written.size() - 1);
        assertThat(pending.fromTs()).as("a batch continues from the last durable checkpoint").isEqualTo(lastCheckpoint());
        assertThat(pending.epoch()).isEqualTo(5);
        if (!pending.events().isEmpty()) {
          long firstPendingTs = pending.events().get(0).commitTs();
          assertThat(lastCheckpoint()).as("checkpoint below the first event not yet durable").isLessThan(firstPendingTs);
        }
        sink.releaseWrites();
        sink.holdWrites();
        // After a written DDL the held rest of its batch may follow at once.
        assertThat(lastCheckpoint()).isGreaterThanOrEqualTo(pending.resolvedTs());
      } else if (blockedAt != null) {
        DdlEvent ddl = blockedAt;
        assertThat(lastCheckpoint()).as("blocked with everything below the DDL durable").isEqualTo(ddl.commitTs() - 1);
        assertThat(writtenEvents()).allSatisfy(e -> assertThat(e.commitTs()).isLessThan(ddl.commitTs()));
        scheduler.advance(1_000);
        assertThat(sink.written()).as("nothing more is pulled or written while blocked").hasSize(written.size());
        d.release(ddl.commitTs() + 1, true);
        assertThat(blockedAt).as("an action for another ts is ignored").isSameAs(ddl);
        d.release(ddl.commitTs(), writeNext);
        if (!writeNext) {
          passed.add(ddl);
        }
        writeNext = !writeNext;
      }
    }
    assertThat(lastCheckpoint()).isEqualTo(UNTIL);
    assertThat(checkpoints).isSorted();
    assertThat(events).contains("wrote TRUNCATE_TABLE", "passed DROP_TABLE").doesNotContain("wrote CREATE_TABLE");
    List<ChangeEvent> expected = new ArrayList<>(datagenHistory(0));
    expected.removeAll(passed);
    assertThat(writtenEvents()).isEqualTo(expected);
    assertThat(sink.written()).filteredOn(b -> b.events().stream().anyMatch(e -> e instanceof DdlEvent))
        .as("a written DDL is a batch of its own, checkpointed at its commit ts")
        .allSatisfy(b -> assertThat(b.events()).singleElement().extracting(ChangeEvent::commitTs).isEqualTo(b.resolvedTs()));
  }

  @Test
  void anIdleSpanRecordsItsCheckpointInTheSinkAboutEverySecond() {
    DatagenSource paced = new DatagenSource(new DatagenSpec(4, 7, 1000, 0), scheduler);
    // A key range datagen never fills: only the table's DDLs reach it, and they are passed at once.
    Dispatcher d = new Dispatcher(new DispatcherSpec(ID, Requests.span(2, 1_000_000, 1_000_001), 0, false), paced, sink,
        TestLanes.tenant(scheduler), listener, 50, () -> 5L);
    d.start();
    for (int step = 0; step < 100; step++) {
      scheduler.advance(100);
      if (blockedAt != null) {
        d.release(blockedAt.commitTs(), false);
      }
    }
    List<SinkBatch> records = sink.written();
    assertThat(records).allSatisfy(b -> assertThat(b.events()).isEmpty());
    assertThat(records.get(0).fromTs()).as("the first record says where the span started").isZero();
    assertThat(records).as("one record at the start, then one per second of the 10 s").hasSizeBetween(10, 11);
    assertThat(records.get(records.size() - 1).resolvedTs()).isGreaterThan(TickTimeline.forRate(1000).commitTs(8_900));
  }

  @Test
  void aRedoDispatcherLogsDdlsWithoutBlocking() {
    Dispatcher d = dispatcher(datagen, true);
    d.start();
    for (int round = 0; round < 1_000 && lastCheckpoint() < UNTIL; round++) {
      scheduler.runDue();
    }
    assertThat(blockedAt).isNull();
    assertThat(lastCheckpoint()).isEqualTo(UNTIL);
    assertThat(writtenEvents()).isEqualTo(datagenHistory(0));
  }

  @Test
  void stoppingABlockedDispatcherCompletesAtOnceAndALateReleaseWritesNothing() {
    Dispatcher d = dispatcher(datagen);
    d.start();
    for (int round = 0; round < 1_000 && blockedAt == null; round++) {
      scheduler.runDue();
    }
    DdlEvent ddl = blockedAt;
    assertThat(ddl).isNotNull();
    int writes = sink.written().size();
    assertThat(d.stop().succeeded()).isTrue();
    d.release(ddl.commitTs(), true);
    scheduler.advance(10_000);
    assertThat(sink.written()).hasSize(writes);
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
    assertThat(events).containsExactly("failed in source: upstream unreachable");
    assertThat(unreachable.stop().succeeded()).isTrue();

    events.clear();
    sink.close();
    Dispatcher closed = dispatcher(datagen);
    closed.start();
    scheduler.runDue();
    assertThat(events).containsExactly("working", "failed in sink: controllable sink: write path closed");
  }

  @Test
  void saysSinceWhenASinkWriteIsOutstanding() {
    sink.holdWrites();
    Dispatcher d = dispatcher(datagen);
    d.start();
    assertThat(d.sinkWriteOutstandingSince()).as("nothing written yet").isZero();
    scheduler.advance(1_500);
    scheduler.runDue();
    assertThat(sink.heldWriteCount()).isEqualTo(1);
    long since = d.sinkWriteOutstandingSince();
    assertThat(since).isPositive().isLessThanOrEqualTo(scheduler.nowMillis());
    scheduler.advance(10_000);
    assertThat(d.sinkWriteOutstandingSince()).as("still the same write").isEqualTo(since);
    sink.releaseWrites();
    assertThat(d.sinkWriteOutstandingSince()).isZero();
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
