package io.feedline.dispatcher.sink.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.testing.Await;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.WritePathClosedException;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class FileSinkTest {

  private static final DispatcherKey D1 = new DispatcherKey(1, 1);
  private static final TableSpan T7 = TableSpan.newBuilder().setTableId(7).build();
  private static final TableSpan DDL = TableSpan.newBuilder().setTableId(0).build();

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void writesJsonLinesPerTableThenTheCheckpointAndRefusesWritesAfterClose(Vertx vertx, @TempDir Path dir) throws Exception {
    Sink sink = await(FileSink.open(vertx, dir));
    List<ChangeEvent> rows = List.of(
        new RowChange(7, 10, RowChange.Op.INSERT, DatagenModel.keyBytes(1), Map.of(), Map.of("id", 1L)),
        new RowChange(7, 12, RowChange.Op.DELETE, DatagenModel.keyBytes(1), Map.of("id", 1L), Map.of()));
    await(sink.write(new SinkBatch(D1, T7, false, 5, 0, rows, 15)));
    await(sink.write(new SinkBatch(D1, DDL, false, 5, 0, List.of(new DdlEvent(7, 20, DdlEvent.Type.DROP_TABLE, "t7", "DROP TABLE t7")), 21)));
    await(sink.write(new SinkBatch(D1, T7, true, 5, 0, rows.subList(0, 1), 11)));

    List<String> lines = Files.readAllLines(FileSink.tableFile(dir, 7, false));
    assertThat(lines).hasSize(2);
    assertThat(new JsonObject(lines.get(0)).getString("op")).isEqualTo("INSERT");
    assertThat(new JsonObject(lines.get(1)).getLong("commitTs")).isEqualTo(12);
    assertThat(Files.readAllLines(FileSink.tableFile(dir, 0, false))).singleElement().asString().contains("DROP_TABLE");
    assertThat(Files.readAllLines(FileSink.tableFile(dir, 7, true))).hasSize(1);
    JsonObject checkpoint = new JsonObject(Files.readString(FileSink.checkpointFile(dir, T7, false)));
    assertThat(checkpoint.getLong("checkpointTs")).isEqualTo(15);
    assertThat(checkpoint.getString("dispatcher")).isEqualTo(D1.toString());
    try (var listing = Files.list(dir.resolve(FileSink.CHECKPOINT_DIR))) {
      assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }

    await(sink.close());
    assertThat(sink.write(new SinkBatch(D1, T7, false, 5, 15, rows, 30)).cause()).isInstanceOf(WritePathClosedException.class);
    assertThat(Files.readAllLines(FileSink.tableFile(dir, 7, false))).hasSize(2);
  }

  @Test
  void theSpanRecordKeepsTheFencingTokenAndRefusesWritesFromAnOlderEpoch(Vertx vertx, @TempDir Path dir) throws Exception {
    DispatcherKey zombie = new DispatcherKey(9, 9);
    DispatcherKey owner = new DispatcherKey(2, 2);
    Sink zombieSide = await(FileSink.open(vertx, dir));
    // Another process's sink on the same directory: the token lives in the files, not in memory.
    Sink ownerSide = await(FileSink.open(vertx, dir));
    RowChange r1 = new RowChange(7, 10, RowChange.Op.INSERT, DatagenModel.keyBytes(1), Map.of(), Map.of("id", 1L));
    RowChange r2 = new RowChange(7, 30, RowChange.Op.INSERT, DatagenModel.keyBytes(2), Map.of(), Map.of("id", 2L));
    RowChange r3 = new RowChange(7, 40, RowChange.Op.INSERT, DatagenModel.keyBytes(3), Map.of(), Map.of("id", 3L));
    await(zombieSide.write(new SinkBatch(zombie, T7, false, 5, 3, List.of(r1), 12)));
    await(ownerSide.write(new SinkBatch(owner, T7, false, 6, 8, List.of(r1), 20)));

    Throwable refused = Await.awaitFailure(zombieSide.write(new SinkBatch(zombie, T7, false, 5, 12, List.of(r2), 35)));
    assertThat(refused).isInstanceOf(FencedWriteException.class).hasMessageContaining("epoch 5").hasMessageContaining("token is epoch 6");
    // An empty batch is fenced too, and the same epoch from another dispatcher (a move) is accepted.
    assertThat(Await.awaitFailure(zombieSide.write(new SinkBatch(zombie, T7, false, 5, 12, List.of(), 50))))
        .isInstanceOf(FencedWriteException.class);
    DispatcherKey moved = new DispatcherKey(3, 3);
    await(ownerSide.write(new SinkBatch(moved, T7, false, 6, 20, List.of(r3), 45)));

    List<String> lines = Files.readAllLines(FileSink.tableFile(dir, 7, false));
    assertThat(lines).as("nothing of the refused batch was written").map(l -> new JsonObject(l).getString("key"))
        .containsExactly("0000000000000001", "0000000000000001", "0000000000000003");
    SpanRecord record = SpanRecord.read(FileSink.checkpointFile(dir, T7, false));
    assertThat(record.checkpointTs()).isEqualTo(45);
    assertThat(record.sinceTs()).as("the lowest start any writer of the span had").isEqualTo(3);
    assertThat(record.epoch()).isEqualTo(6);
    assertThat(record.dispatcher()).isEqualTo(moved.toString());
    assertThat(record.span()).isEqualTo(T7);
  }
}
