package io.feedline.dispatcher.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.time.VertxScheduler;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.dispatcher.testing.TestLanes;
import io.feedline.proto.SpanHold;
import io.feedline.proto.TableSpan;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dispatcher writes a table to the file sink, stops, and a new one resumes from the checkpoint: the
 * file holds every change exactly once up to the checkpoint, and duplicates only what lay beyond it.
 */
@ExtendWith(VertxExtension.class)
class DispatcherFileRestartTest {

  private static final TickTimeline TIMELINE = TickTimeline.forRate(0);
  private static final long UNTIL = TIMELINE.commitTs(12_000);
  private static final long TABLE = 3;
  private static final TableSpan SPAN = Requests.table(TABLE);

  /** Runs a dispatcher on its own context until its checkpoint reaches {@code stopAt}, then stops it. */
  private static long runUntil(Vertx vertx, Sink sink, DispatcherKey ref, long startTs, long stopAt) throws Exception {
    Context context = vertx.getOrCreateContext();
    Promise<Long> reached = Promise.promise();
    context.runOnContext(v -> {
      VertxScheduler scheduler = new VertxScheduler(vertx, context, Clock.systemUTC());
      DatagenSource source = new DatagenSource(new DatagenSpec(4, 7, 0, UNTIL), scheduler);
      Dispatcher[] d = new Dispatcher[1];
      d[0] = new Dispatcher(new DispatcherSpec(ref, SPAN, startTs, false), source, sink, TestLanes.tenant(scheduler),
          new Dispatcher.Listener() {
            @Override
            public void working(DispatcherKey r) {}

            @Override
            public void progressed(DispatcherKey r, long checkpointTs, long resolvedTs) {
              if (checkpointTs >= stopAt && !reached.future().isComplete()) {
                // Stop as soon as the checkpoint passes the mark; what it reports is the restart point.
                d[0].stop().onComplete(x -> reached.tryComplete(checkpointTs));
              }
            }

            @Override
            public void blocked(DispatcherKey r, DdlEvent ddl) {
              // No maintainer here: the span passes its table's DDLs at once.
              context.runOnContext(x -> d[0].release(ddl.commitTs(), false));
            }

            @Override
            public void passed(DispatcherKey r, DdlEvent ddl, boolean written) {}

            @Override
            public void failed(DispatcherKey r, Throwable cause, SpanHold side) {
              reached.tryFail(cause);
            }
          }, 200, () -> 5L);
      d[0].start();
    });
    return reached.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static List<String> expectedLines(long after, long upTo) {
    DatagenModel model = new DatagenModel(7, 4, TIMELINE);
    List<String> lines = new ArrayList<>();
    TIMELINE.ticksIn(after, upTo).forEach(tick -> model.rowsAt(TABLE, tick).forEach(row -> lines.add(FileSink.encode(row))));
    return lines;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aCleanRestartLeavesNoGapAndNoDuplicate(Vertx vertx, @TempDir Path dir) throws Exception {
    Sink sink = await(FileSink.open(vertx, dir));
    long checkpoint = runUntil(vertx, sink, Requests.id(1), 0, TIMELINE.commitTs(4_000));
    assertThat(checkpoint).isBetween(TIMELINE.commitTs(4_000), UNTIL);
    long last = runUntil(vertx, sink, Requests.id(2), checkpoint, UNTIL);
    assertThat(last).isEqualTo(UNTIL);
    await(sink.close());

    assertThat(Files.readAllLines(FileSink.tableFile(dir, TABLE, false))).isEqualTo(expectedLines(0, UNTIL));
    assertThat(new JsonObject(Files.readString(FileSink.checkpointFile(dir, SPAN, false))).getLong("checkpointTs")).isEqualTo(UNTIL);
  }

  @Test
  void aCrashBeforeTheCheckpointDuplicatesOnlyWhatLayBeyondIt(Vertx vertx, @TempDir Path dir) throws Exception {
    Sink sink = await(FileSink.open(vertx, dir));
    long checkpoint = runUntil(vertx, sink, Requests.id(1), 0, TIMELINE.commitTs(4_000));
    // The crash: lines past the checkpoint reached the file, the checkpoint did not.
    List<String> beyond = expectedLines(checkpoint, checkpoint + TIMELINE.commitTs(700));
    assertThat(beyond).isNotEmpty();
    Files.writeString(FileSink.tableFile(dir, TABLE, false), String.join("\n", beyond) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

    runUntil(vertx, sink, Requests.id(2), checkpoint, UNTIL);
    await(sink.close());

    List<String> expected = new ArrayList<>(expectedLines(0, checkpoint));
    expected.addAll(beyond);
    expected.addAll(expectedLines(checkpoint, UNTIL));
    assertThat(Files.readAllLines(FileSink.tableFile(dir, TABLE, false))).isEqualTo(expected);
  }
}
