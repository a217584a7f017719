package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.span.TableSpans;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.EventSizes;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.postgresql.source.ChangeAssembler.Transaction;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The source's fan-out of one stream to a node's subscriptions, driven by a scripted stream and a manual clock. */
class PostgresSourceFanOutTest {

  private static final long T1 = 100;
  private static final long T2 = 200;

  /** Records what the source asks of its stream; the test plays the stream's part through the listener. */
  private static final class ScriptedStream implements ChangeStream {
    final List<long[]> starts = new ArrayList<>();
    ReplicationReader.Listener listener;

    @Override
    public void start(long generation, long from) {
      starts.add(new long[] {generation, from});
    }

    long anchor = -1;

    @Override
    public void advanceAnchor(long checkpoint) {
      anchor = checkpoint;
    }

    @Override
    public void close() {}

    long generation() {
      return starts.get(starts.size() - 1)[0];
    }
  }

  private final ManualScheduler lane = new ManualScheduler(0);
  private final ScriptedStream stream = new ScriptedStream();
  private final ByteBudget budget = new ByteBudget(1 << 20);
  private PostgresSource source;
  private long anchorTarget = 777;

  @BeforeEach
  void open() {
    source = new PostgresSource("cf", lane, new CapturedTables(), position -> Future.succeededFuture(List.of()), budget, new SourceMetrics(new SimpleMeterRegistry(), Clock.systemUTC(), "cf"),
        cf -> Future.succeededFuture(OptionalLong.of(anchorTarget)), listener -> {
          stream.listener = listener;
          return stream;
        });
  }

  @Test
  void oneStreamStartsAtTheLowestPositionOfABurstOfSubscriptions() {
    subscribe(span(T1), 1000);
    subscribe(span(T2), 900);
    assertThat(stream.starts).isEmpty();
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    assertThat(stream.starts).containsExactly(new long[] {1, 900});
  }

  @Test
  void eachSpanGetsItsOwnTablesAndKeysAboveItsCursorOnce() {
    SourceSubscription low = subscribe(span(T1, null, key(50)), 1000);
    SourceSubscription high = subscribe(span(T1, key(50), null), 1000);
    SourceSubscription other = subscribe(span(T2), 1000);
    SourceSubscription ddl = subscribe(TableSpans.ddlSpan(), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    deliver(1100, row(T1, 1100, 10), row(T1, 1100, 60), row(T2, 1100, 1));
    deliver(1200, new DdlEvent(T1, 1199, DdlEvent.Type.TRUNCATE_TABLE, "t1", "TRUNCATE TABLE t1"), row(T1, 1200, 70));
    assertThat(keys(low.poll(100))).containsExactly("10@1100", "DDL@1199");
    assertThat(low.poll(100)).as("everything through 1200 came in one batch").isNull();
    ChangeBatch highBatch = high.poll(100);
    assertThat(keys(highBatch)).containsExactly("60@1100", "DDL@1199", "70@1200");
    assertThat(highBatch.resolvedTs()).isEqualTo(1200);
    assertThat(keys(other.poll(100))).containsExactly("1@1100");
    assertThat(keys(ddl.poll(100))).containsExactly("DDL@1199");
  }

  @Test
  void aSpanAddedLaterAtAnOlderPositionRestartsTheStreamAndSeesNothingTwice() {
    SourceSubscription first = subscribe(span(T1), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    deliver(1100, row(T1, 1100, 1), row(T2, 1100, 9));
    deliver(1200, row(T1, 1200, 2));
    assertThat(keys(first.poll(100))).containsExactly("1@1100", "2@1200");
    SourceSubscription recent = subscribe(span(T2), 1050);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    assertThat(stream.starts).as("what arrived within the retention is still kept: no restart").hasSize(1);
    assertThat(keys(recent.poll(100))).containsExactly("9@1100");
    recent.cancel();
    lane.advance(PostgresSource.RETAIN_MILLIS); // trims both tables to 1200, where the only subscription is
    SourceSubscription sameAsKept = subscribe(span(T2), 1200);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    assertThat(stream.starts).as("a span at a position still kept is served without a restart").hasSize(1);
    sameAsKept.cancel();
    // A moved span whose checkpoint is 1050: the stream restarts there, as generation 2.
    SourceSubscription moved = subscribe(span(T2), 1050);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    assertThat(stream.starts).hasSize(2);
    assertThat(stream.starts.get(1)).containsExactly(2, 1050);
    // A late transaction of the old stream is ignored; the new one replays from 1050.
    stream.listener.transaction(1, tx(1300, row(T1, 1300, 3)), 10);
    deliver(1100, row(T1, 1100, 1), row(T2, 1100, 9));
    deliver(1200, row(T1, 1200, 2));
    deliver(1300, row(T1, 1300, 3));
    assertThat(keys(first.poll(100))).containsExactly("3@1300");
    assertThat(keys(moved.poll(100))).containsExactly("9@1100");
  }

  @Test
  void idleSpansMoveWithTheResolvedPositionAndWakeUpForIt() {
    SourceSubscription idle = subscribe(span(T2), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    var available = idle.available();
    assertThat(available.isComplete()).isFalse();
    stream.listener.resolved(stream.generation(), 1500);
    lane.runDue();
    assertThat(available.succeeded()).isTrue();
    ChangeBatch batch = idle.poll(100);
    assertThat(batch.events()).isEmpty();
    assertThat(batch.resolvedTs()).isEqualTo(1500);
  }

  @Test
  void memoryComesBackOnceEverySubscriptionHasReadIt() throws InterruptedException {
    SourceSubscription a = subscribe(span(T1, null, key(50)), 1000);
    SourceSubscription b = subscribe(span(T1, key(50), null), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    Transaction tx = tx(1100, row(T1, 1100, 10), row(T1, 1100, 60));
    long bytes = EventSizes.of(tx.events());
    budget.acquire(bytes, () -> false);
    stream.listener.transaction(stream.generation(), tx, bytes);
    lane.runDue();
    a.poll(100);
    lane.advance(PostgresSource.RETAIN_MILLIS);
    assertThat(budget.used()).as("b has not read it yet").isEqualTo(bytes);
    b.poll(100);
    lane.advance(PostgresSource.TRIM_MILLIS);
    assertThat(budget.used()).isZero();
  }

  @Test
  void theAnchorFollowsThePersistedCheckpoint() {
    lane.advance(PostgresSource.ANCHOR_MILLIS);
    assertThat(stream.anchor).isEqualTo(777);
    anchorTarget = 900;
    lane.advance(PostgresSource.ANCHOR_MILLIS);
    assertThat(stream.anchor).isEqualTo(900);
  }

  @Test
  void aFailedStreamRestartsAsANewGenerationFromWhereTheSpansAre() {
    SourceSubscription s = subscribe(span(T1), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    deliver(1100, row(T1, 1100, 1));
    assertThat(keys(s.poll(100))).containsExactly("1@1100");
    stream.listener.failed(stream.generation(), new java.sql.SQLException("connection reset"), false);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    assertThat(stream.starts).hasSize(2);
    assertThat(stream.starts.get(1)).containsExactly(2, 1100);
    // What the failed generation still sends is dropped; the new one's replay of 1100 is below the cursor.
    stream.listener.transaction(1, tx(1200, row(T1, 1200, 2)), 10);
    deliver(1100, row(T1, 1100, 1));
    deliver(1200, row(T1, 1200, 2));
    assertThat(keys(s.poll(100))).containsExactly("2@1200");
  }

  @Test
  void lostChangesFailTheSubscriptions() {
    SourceSubscription s = subscribe(span(T1), 1000);
    lane.advance(PostgresSource.START_DELAY_MILLIS);
    var available = s.available();
    stream.listener.failed(stream.generation(), new ReplicationReader.ChangesLostException("gone"), true);
    lane.runDue();
    assertThat(available.failed()).isTrue();
    assertThat(available.cause()).hasMessageContaining("gone");
  }

  private SourceSubscription subscribe(TableSpan span, long from) {
    return source.subscribe(span, from).result();
  }

  private void deliver(long lsn, ChangeEvent... events) {
    Transaction tx = tx(lsn, events);
    stream.listener.transaction(stream.generation(), tx, EventSizes.of(tx.events()));
    lane.runDue();
  }

  private static Transaction tx(long lsn, ChangeEvent... events) {
    return new Transaction(lsn, 0, List.of(events), List.of(), List.of());
  }

  private static RowChange row(long table, long lsn, long id) {
    return new RowChange(table, lsn, RowChange.Op.INSERT, key(id), Map.of(), Map.of("id", id));
  }

  private static ByteString key(long id) {
    return KeyEncoding.encode(List.of(PgTypes.INT8), List.of(Long.toString(id)));
  }

  private static TableSpan span(long table) {
    return span(table, null, null);
  }

  private static TableSpan span(long table, ByteString start, ByteString end) {
    TableSpan.Builder b = TableSpan.newBuilder().setTableId(table);
    if (start != null) {
      b.setStartKey(start);
    }
    if (end != null) {
      b.setEndKey(end);
    }
    return b.build();
  }

  private static List<String> keys(ChangeBatch batch) {
    assertThat(batch).isNotNull();
    return batch.events().stream().map(e -> e instanceof RowChange r ? r.after().get("id") + "@" + r.commitTs() : "DDL@" + e.commitTs()).toList();
  }
}
