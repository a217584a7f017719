package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordingSinkTest {

  private final ManualScheduler clock = new ManualScheduler(0);
  private final Downstream downstream = new Downstream(ChangefeedId.of("cf-1"), "datagen://?tables=1&seed=1", 0);
  private final List<String> history = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();

  private RecordingSink sink(RecordingSink.SinkFault fault) {
    return new RecordingSink(downstream, key -> new Downstream.Writer(NodeId.of("n1-1"), key), clock, () -> fault, violations::add,
        history::add);
  }

  private static SinkBatch batch() {
    RowChange row = new RowChange(1, 10, RowChange.Op.INSERT, ByteString.copyFrom(new byte[] {1}), Map.of(), Map.of("v", 1));
    return new SinkBatch(new DispatcherKey(1, 1), TableSpan.newBuilder().setTableId(1).build(), false, 5, 0, List.of(row), 10);
  }

  /** Seed 9026 found the simulated sink lacking this: a stalled batch landed after its node had fenced itself. */
  @Test
  void aBatchStillOnItsWayWhenTheSinkClosesRollsBackAsThePostgresSinksDoes() {
    RecordingSink sink = sink(new RecordingSink.SinkFault(2_000, false, false));
    Future<Void> write = sink.write(batch());
    sink.close();
    clock.advance(2_000);
    assertThat(write.failed()).isTrue();
    assertThat(write.cause()).isInstanceOf(WritePathClosedException.class);
    assertThat(downstream.attempts).as("nothing reached the database").isZero();
    assertThat(history).singleElement().asString().endsWith("rolled back, the sink is closing");
  }

  @Test
  void aLostAnswerFailsTheWriteThatTheDatabaseCommitted() {
    Future<Void> write = sink(new RecordingSink.SinkFault(3, false, true)).write(batch());
    clock.advance(3);
    assertThat(write.failed()).isTrue();
    assertThat(downstream.written()).hasSize(1);
  }

  @Test
  void aRefusedWriteFailsAndChangesNothing() {
    Future<Void> write = sink(new RecordingSink.SinkFault(3, true, false)).write(batch());
    clock.advance(3);
    assertThat(write.failed()).isTrue();
    assertThat(downstream.written()).isEmpty();
  }
}
