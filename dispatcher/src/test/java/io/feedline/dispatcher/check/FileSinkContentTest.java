package io.feedline.dispatcher.check;

import static io.feedline.common.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.proto.TableSpan;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class FileSinkContentTest {

  private static final DispatcherKey D = new DispatcherKey(1, 2);

  private static TableSpan table(long id) {
    return TableSpan.newBuilder().setTableId(id).build();
  }

  private static RowChange insert(long table, long ts, long key) {
    return new RowChange(table, ts, RowChange.Op.INSERT, DatagenModel.keyBytes(key), Map.of(), Map.of("id", key));
  }

  private static void write(Sink sink, long table, long from, List<ChangeEvent> events, long resolved) {
    await(sink.write(new SinkBatch(D, table(table), false, 5, from, events, resolved)));
  }

  @Test
  void theCheckpointIsTheMinimumOverLiveSpansAndASpanEndedByADropNoLongerCounts(Vertx vertx, @TempDir Path dir) throws IOException {
    Sink sink = await(FileSink.open(vertx, dir));
    write(sink, 0, 100, List.of(new DdlEvent(2, 500, DdlEvent.Type.DROP_TABLE, "t2", "DROP TABLE t2")), 600);
    write(sink, 1, 100, List.of(insert(1, 150, 1), insert(1, 690, 2)), 700);
    // Table 2's span blocked at the drop (checkpoint 499) and was removed: its record stays at 499.
    write(sink, 2, 100, List.of(insert(2, 120, 1)), 499);
    // A redo record never counts.
    await(sink.write(new SinkBatch(D, table(3), true, 5, 10, List.of(insert(3, 20, 1)), 30)));

    FileSinkContent content = FileSinkContent.read(dir);
    assertThat(content.records()).hasSize(3);
    assertThat(content.events()).hasSize(4);
    assertThat(content.checkpoint()).hasValue(600);
    assertThat(content.since()).hasValue(100);

    // Table 2 comes back at 650: its span counts again, from the create on at least.
    write(sink, 0, 600, List.of(new DdlEvent(2, 650, DdlEvent.Type.CREATE_TABLE, "t2", "CREATE TABLE t2")), 800);
    assertThat(FileSinkContent.read(dir).checkpoint()).hasValue(650);
    await(sink.close());
  }

  @Test
  void aTornLastLineIsIgnoredAndAnyOtherUnreadableLineIsAnError(Vertx vertx, @TempDir Path dir) throws IOException {
    Sink sink = await(FileSink.open(vertx, dir));
    write(sink, 1, 0, List.of(insert(1, 10, 1), insert(1, 20, 2)), 30);
    await(sink.close());
    Path file = FileSink.tableFile(dir, 1, false);
    Files.writeString(file, "{\"commitTs\":40,\"tab", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThat(FileSinkContent.read(dir).events()).hasSize(2);

    Files.writeString(file, "\n" + FileSink.encode(insert(1, 50, 3)) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertThatThrownBy(() -> FileSinkContent.read(dir)).isInstanceOf(IOException.class).hasMessageContaining("line 3 is not an event");
    assertThatThrownBy(() -> FileSinkContent.read(dir.resolve("nope"))).isInstanceOf(IOException.class).hasMessageContaining("no file sink");
  }
}
