package io.feedline.node;

import static io.feedline.common.testing.Await.await;

import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.file.FileSink;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.proto.TableSpan;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes, through the real file sink, what a changefeed over a datagen source delivers in {@code (start,
 * checkpoint]}: the trigger's DDLs and one span per table, each recording {@code start} and
 * {@code checkpoint}. The content the checker must find equal.
 */
public final class DatagenFileSink {

  private DatagenFileSink() {}

  public static void write(Path dir, DatagenSpec spec, long start, long checkpoint) {
    Vertx vertx = Vertx.vertx();
    try {
      DatagenModel model = DatagenModel.of(spec);
      TickTimeline timeline = model.timeline();
      Sink sink = await(FileSink.open(vertx, dir));
      DispatcherKey writer = new DispatcherKey(1, 1);
      for (long table = 0; table <= spec.tables(); table++) {
        List<ChangeEvent> events = new ArrayList<>();
        for (long tick = timeline.lastTickAtOrBelow(start) + 1; tick <= timeline.lastTickAtOrBelow(checkpoint); tick++) {
          if (table == 0) {
            DdlEvent ddl = model.ddlAt(tick);
            if (ddl != null) {
              events.add(ddl);
            }
          } else {
            events.addAll(model.rowsAt(table, tick));
          }
        }
        await(sink.write(new SinkBatch(writer, TableSpan.newBuilder().setTableId(table).build(), false, 5, start, events, checkpoint)));
      }
      await(sink.close());
    } finally {
      await(vertx.close());
    }
  }
}
