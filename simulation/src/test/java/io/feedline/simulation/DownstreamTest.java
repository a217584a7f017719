package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.proto.TableSpan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DownstreamTest {

  private static final TableSpan T1 = TableSpan.newBuilder().setTableId(1).build();
  private static final TableSpan TRIGGER = TableSpan.newBuilder().setTableId(0).build();
  private static final Downstream.Writer A = new Downstream.Writer(NodeId.of("n1-1"), new DispatcherKey(1, 1));
  private static final Downstream.Writer B = new Downstream.Writer(NodeId.of("n2-1"), new DispatcherKey(2, 2));

  private final Downstream downstream = new Downstream(ChangefeedId.of("cf-1"), "datagen://?tables=1&seed=1", 0);

  private static SinkBatch batch(Downstream.Writer writer, TableSpan span, long epoch, long from, List<ChangeEvent> events, long to) {
    return new SinkBatch(writer.dispatcher(), span, false, epoch, from, events, to);
  }

  private static RowChange insert(long ts, int key) {
    return new RowChange(1, ts, RowChange.Op.INSERT, ByteString.copyFrom(new byte[] {(byte) key}), Map.of(), Map.of("v", ts));
  }

  @Test
  void aWriterThatWritesAgainAfterAnotherTookItsSpanOverIsTwoWritersAtOnce() {
    assertThat(downstream.apply(A, batch(A, T1, 5, 0, List.of(insert(10, 1)), 10)).violation()).isEmpty();
    assertThat(downstream.apply(B, batch(B, T1, 5, 10, List.of(insert(20, 2)), 20)).violation()).isEmpty();
    assertThat(downstream.apply(A, batch(A, T1, 5, 10, List.of(insert(30, 3)), 30)).violation()).hasValueSatisfying(
        v -> assertThat(v).startsWith("ONE_WRITER"));
  }

  @Test
  void anOlderEpochIsRefusedAndChangesNothing() {
    downstream.apply(B, batch(B, T1, 7, 0, List.of(insert(10, 1)), 10));
    Downstream.Outcome zombie = downstream.apply(A, batch(A, T1, 6, 10, List.of(insert(20, 2)), 20));
    assertThat(zombie.refusal()).isPresent();
    assertThat(downstream.written()).hasSize(1);
    assertThat(downstream.fenced).isEqualTo(1);
  }

  @Test
  void aReplaySkipsWhatItsShapeAppliedAndWhatATruncateWiped() {
    downstream.apply(A, batch(A, T1, 5, 0, List.of(insert(10, 1), insert(20, 2)), 20));
    downstream.apply(A, batch(A, TRIGGER, 5, 29, List.of(new DdlEvent(1, 30, DdlEvent.Type.TRUNCATE_TABLE, "t1", "TRUNCATE TABLE t1", null)), 30));
    // A new writer of the same shape from 15: its key range applied through 20, the table was cleared at 30.
    downstream.apply(B, batch(B, T1, 6, 15, List.of(insert(20, 2), insert(25, 3), insert(40, 4)), 40));
    assertThat(downstream.written().stream().map(line -> line.commitTs()).toList()).containsExactly(10L, 20L, 30L, 40L);
  }
}
