package io.feedline.postgresql.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.testing.PostgresServerExtension;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.check.CheckInputException;
import io.feedline.dispatcher.check.CheckReport;
import io.feedline.dispatcher.check.DatagenReplay;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSource;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code feedline check} against a PostgreSQL sink: a datagen history replicated through the sink (DDLs by
 * the trigger, rows by one span per table, in the barrier's order) checks equal; a row changed, removed or
 * added behind Feedline's back is found.
 */
class PostgresSinkCheckTest {

  private static final String SOURCE = "datagen://?tables=3&seed=11";
  private static final long TICKS = 7_000;

  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();
  private static String sinkUri;
  private static String database;

  @BeforeAll
  static void replicate() throws Exception {
    database = POSTGRES.server().createDatabase("checked");
    sinkUri = POSTGRES.server().uri(database);
    Vertx vertx = Vertx.vertx();
    try {
      DatagenSpec spec = DatagenReplay.spec(SOURCE);
      DatagenSource source = new DatagenSource(spec, new ManualScheduler(0));
      EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), new SimpleMeterRegistry()).forChangefeed("cf-check")
          .withSchemas(source);
      Sink sink = await(new ProviderEndpoints().openSink(sinkUri, context));
      replay(sink, source.model());
      await(sink.close());
    } finally {
      await(vertx.close());
    }
  }

  /** Writes ticks 1..TICKS as the dispatchers would: rows per table span in batches, every DDL by the trigger once the rows before it are in. */
  private static void replay(Sink sink, DatagenModel model) throws Exception {
    DispatcherKey trigger = DispatcherKey.random(new Random(1));
    Map<Long, DispatcherKey> writers = new HashMap<>();
    Map<Long, Long> checkpoints = new HashMap<>();
    Map<Long, List<ChangeEvent>> pending = new TreeMap<>();
    long triggerCheckpoint = 0;
    for (long tick = 1; tick <= TICKS; tick++) {
      long ts = model.timeline().commitTs(tick);
      DdlEvent ddl = model.ddlAt(tick);
      if (ddl != null) {
        flush(sink, pending, writers, checkpoints, ts - 1);
        await(sink.write(new SinkBatch(trigger, TableSpan.newBuilder().setTableId(0).build(), false, 10, triggerCheckpoint, List.of(ddl), ts)));
        triggerCheckpoint = ts;
        continue;
      }
      for (long table = 1; table <= model.tables(); table++) {
        List<ChangeEvent> rows = new ArrayList<>(model.rowsAt(table, tick));
        if (!rows.isEmpty()) {
          pending.computeIfAbsent(table, t -> new ArrayList<>()).addAll(rows);
        }
      }
      if (tick % 97 == 0) {
        flush(sink, pending, writers, checkpoints, ts);
      }
    }
    flush(sink, pending, writers, checkpoints, model.timeline().commitTs(TICKS));
  }

  private static void flush(Sink sink, Map<Long, List<ChangeEvent>> pending, Map<Long, DispatcherKey> writers, Map<Long, Long> checkpoints,
      long resolved) throws Exception {
    for (Map.Entry<Long, List<ChangeEvent>> e : pending.entrySet()) {
      long table = e.getKey();
      DispatcherKey writer = writers.computeIfAbsent(table, t -> DispatcherKey.random(new Random(100 + t)));
      await(sink.write(new SinkBatch(writer, TableSpan.newBuilder().setTableId(table).build(), false, 10, checkpoints.getOrDefault(table, 0L),
          e.getValue(), resolved)));
      checkpoints.put(table, resolved);
    }
    pending.clear();
  }

  private static CheckReport check() {
    return PostgresSinkCheck.check(SOURCE, sinkUri, Optional.empty(), OptionalLong.empty(), OptionalLong.empty(), Map.of());
  }

  @Test
  void whatTheSinkWroteChecksEqualAndAnyRowChangedBehindItsBackIsFound() {
    CheckReport equal = check();
    assertThat(equal.equal()).as(equal.render()).isTrue();
    assertThat(equal.ddls()).as("creates, truncates, columns added and drops were all in the window").isGreaterThan(5);
    assertThat(equal.rows()).isPositive();

    String table = List.of(POSTGRES.server().psql(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").split("\n"))
        .stream().filter(t -> Integer.parseInt(POSTGRES.server().psql(database, "SELECT count(*) FROM public." + t)) >= 2).findFirst().orElseThrow();
    String[] ids = POSTGRES.server().psql(database, "SELECT id FROM public." + table + " ORDER BY id LIMIT 2").split("\n");
    // What a zombie could do: an older version over a newer one, a row re-inserted after its delete.
    POSTGRES.server().psql(database, "UPDATE public." + table + " SET v0 = v0 + 1 WHERE id = " + ids[0]);
    POSTGRES.server().psql(database, "DELETE FROM public." + table + " WHERE id = " + ids[1]);
    POSTGRES.server().psql(database, "INSERT INTO public." + table + " (id, v0, v1) VALUES (999999, 1, 'zombie')");
    try {
      CheckReport different = check();
      assertThat(different.equal()).isFalse();
      assertThat(different.tables()).singleElement().satisfies(t -> {
        assertThat(t.table()).isEqualTo(Long.parseLong(table.substring(1)));
        assertThat(t.wrongRows()).singleElement().asString().startsWith("key=" + ids[0] + " expected");
        assertThat(t.missingRows()).singleElement().asString().startsWith("key=" + ids[1] + " ");
        assertThat(t.extraRows()).singleElement().asString().startsWith("key=999999 ");
      });
    } finally {
      POSTGRES.server().psql(database, "DELETE FROM public." + table + " WHERE id = 999999");
    }
  }

  @Test
  void aDatabaseNoChangefeedWroteToIsBadInput() {
    String empty = POSTGRES.server().createDatabase("untouched");
    assertThatThrownBy(() -> PostgresSinkCheck.check(SOURCE, POSTGRES.server().uri(empty), Optional.empty(), OptionalLong.empty(), OptionalLong.empty(),
        Map.of())).isInstanceOf(CheckInputException.class).hasMessageContaining("no Feedline changefeed has written to schema public");
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
