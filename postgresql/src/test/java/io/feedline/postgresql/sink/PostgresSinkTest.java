package io.feedline.postgresql.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.common.id.DispatcherKey;
import io.feedline.common.testing.PostgresServer;
import io.feedline.common.testing.PostgresServerExtension;
import io.feedline.common.testing.TestSeeds;
import io.feedline.common.time.ManualScheduler;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.ProviderEndpoints;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.schema.TableSchemas;
import io.feedline.dispatcher.sink.FencedWriteException;
import io.feedline.dispatcher.sink.Sink;
import io.feedline.dispatcher.sink.SinkBatch;
import io.feedline.dispatcher.sink.UnwritableSchemaException;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The PostgreSQL sink against a real PostgreSQL 15: DDLs, idempotent replays, and the database's own fence. */
class PostgresSinkTest {

  private static final TableSpan TRIGGER = TableSpan.newBuilder().setTableId(0).build();
  private static final TableSpan T1 = TableSpan.newBuilder().setTableId(1).build();
  /** The two halves of T1 after a split at key "m". */
  private static final TableSpan T1_LOW = TableSpan.newBuilder().setTableId(1).setEndKey(ByteString.copyFromUtf8("m")).build();
  private static final TableSpan T1_HIGH = TableSpan.newBuilder().setTableId(1).setStartKey(ByteString.copyFromUtf8("m")).build();
  /** datagen's table: the column {@code extra} exists from ts {@value #ADD_COLUMN_TS} on. */
  private static final long ADD_COLUMN_TS = 500;

  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();
  private static int databases;
  private Vertx vertx;
  private SimpleMeterRegistry metrics;
  private String database;
  private final List<Sink> opened = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    metrics = new SimpleMeterRegistry();
    database = POSTGRES.server().createDatabase("sink_" + (++databases));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Sink sink : opened) {
      await(sink.close());
    }
    await(vertx.close());
  }

  @Test
  void everyDdlKindAndTheRowsBetweenThemEndUpInTheTables() throws Exception {
    Sink sink = open("cf-ddl", DATAGEN_LIKE);
    DispatcherKey trigger = writer();
    DispatcherKey t1 = writer();

    await(sink.write(batch(trigger, TRIGGER, 10, 0, List.of(create(100)), 100)));
    assertThat(columns("t1")).containsExactly("id:bigint", "v0:bigint", "v1:character varying(24)");
    await(sink.write(batch(t1, T1, 10, 100, List.of(insert(110, 1, 11), insert(110, 2, 21), insert(120, 3, 31), update(130, 2, 21, 22),
        delete(140, 3, 31)), 150)));
    assertThat(rows("t1")).containsExactly("1|11|s1", "2|22|s2");

    await(sink.write(batch(trigger, TRIGGER, 10, 100, List.of(ddl(ADD_COLUMN_TS, DdlEvent.Type.ADD_COLUMN)), ADD_COLUMN_TS)));
    assertThat(columns("t1")).containsExactly("id:bigint", "v0:bigint", "v1:character varying(24)", "extra:integer");
    await(sink.write(batch(t1, T1, 10, 150, List.of(insertWithExtra(510, 4, 41, 7)), 520)));
    assertThat(rows("t1")).containsExactly("1|11|s1|", "2|22|s2|", "4|41|s4|7");

    await(sink.write(batch(trigger, TRIGGER, 10, ADD_COLUMN_TS, List.of(ddl(600, DdlEvent.Type.TRUNCATE_TABLE)), 600)));
    assertThat(rows("t1")).isEmpty();

    await(sink.write(batch(trigger, TRIGGER, 10, 600, List.of(ddl(700, DdlEvent.Type.DROP_TABLE)), 700)));
    assertThat(POSTGRES.server().psql(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 't1'")).isEqualTo("0");
    assertThat(POSTGRES.server().psql(database, "SELECT table_id, checkpoint_ts FROM feedline.spans ORDER BY table_id"))
        .isEqualTo("0|700\n1|520");
  }

  @Test
  void aReplayFromAnOlderCheckpointLeavesTheTableAsItWas() throws Exception {
    Sink sink = openWithT1("cf-replay");
    List<ChangeEvent> first = List.of(insert(110, 1, 11), insert(110, 2, 21), update(120, 1, 11, 12));
    List<ChangeEvent> second = List.of(update(130, 1, 12, 13), delete(140, 2, 21), insert(150, 5, 51));
    DispatcherKey original = writer();
    await(sink.write(batch(original, T1, 10, 100, first, 125)));
    await(sink.write(batch(original, T1, 10, 125, second, 160)));
    String before = rows("t1").toString();

    // A new owner after a failover (or after a commit whose answer was lost) re-sends from an older checkpoint:
    // its first batch carries row 1's older versions, which must not overwrite the newer one.
    Sink again = open("cf-replay", DATAGEN_LIKE);
    DispatcherKey successor = writer();
    await(again.write(batch(successor, T1, 11, 100, first, 125)));
    assertThat(rows("t1").toString()).isEqualTo(before);
    await(again.write(batch(successor, T1, 11, 125, second, 160)));
    assertThat(rows("t1").toString()).isEqualTo(before).isEqualTo("[1|13|s1, 5|51|s5]");
  }

  @Test
  void aSuccessorWhoseFirstBatchLiesBelowTheRecordedCheckpointSkipsUpToItInItsNextBatchesToo() throws Exception {
    Sink sink = openWithT1("cf-skip");
    RowChange inserted = insert(110, 1, 1);
    RowChange older = update(125, 1, 1, 5);
    RowChange newest = update(140, 1, 5, 2);
    await(sink.write(batch(writer(), T1, 10, 100, List.of(inserted, older, newest), 150)));

    DispatcherKey successor = writer();
    await(sink.write(batch(successor, T1, 10, 100, List.of(inserted), 120)));
    await(sink.write(batch(successor, T1, 10, 120, List.of(older), 130)));
    assertThat(rows("t1")).as("the older version is below the recorded checkpoint: skipped, not applied").containsExactly("1|2|s1");
    // ...and so a next successor, which skips up to the recorded checkpoint, finds the newest version in place.
    await(sink.write(batch(writer(), T1, 10, 130, List.of(newest), 150)));
    assertThat(rows("t1")).containsExactly("1|2|s1");
  }

  @Test
  void aCommitWhoseAnswerIsLostIsReplayedHarmlessly() throws Exception {
    CuttingProxy proxy = await(CuttingProxy.start(vertx, POSTGRES.server().port()));
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), metrics).forChangefeed("cf-ambiguous").withSchemas(DATAGEN_LIKE);
    Sink sink = await(new PostgresSinkProvider(Map.of()).open(
        EndpointUri.parse("sink", "postgresql://" + PostgresServer.SUPERUSER + "@127.0.0.1:" + proxy.port() + "/" + database), context));
    opened.add(sink);
    await(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    List<ChangeEvent> batch = List.of(insert(110, 1, 11), insert(110, 2, 21), update(120, 1, 11, 12), delete(130, 2, 21));

    proxy.cutAfterNextCommit();
    Throwable lost = failure(sink.write(batch(writer(), T1, 10, 100, batch, 140)));
    assertThat(proxy.didCut()).as("the connection was cut after the COMMIT went through").isTrue();
    assertThat(lost).isNotInstanceOf(FencedWriteException.class);
    assertThat(rows("t1")).as("the server committed what the client never heard of").containsExactly("1|12|s1");

    // The dispatcher failed, and is re-created from its checkpoint (100): the whole batch again, and more.
    DispatcherKey successor = writer();
    await(sink.write(batch(successor, T1, 10, 100, batch, 140)));
    await(sink.write(batch(successor, T1, 10, 140, List.of(insert(150, 2, 22)), 160)));
    assertThat(rows("t1")).containsExactly("1|12|s1", "2|22|s2");
  }

  @Test
  void aPartOfASplitStartingBelowItsParentsCheckpointSkipsWhatTheParentApplied() throws Exception {
    Sink sink = openWithT1("cf-split-skip");
    RowChange inserted = insert(110, 1, 1);
    RowChange older = update(125, 1, 1, 5);
    await(sink.write(batch(writer(), T1, 10, 100, List.of(inserted, older, update(140, 1, 5, 2)), 150)));

    // The part holding key 1 restarts from 100 (its parent's node died before the split was recorded higher).
    await(sink.write(batch(writer(), T1_LOW, 10, 100, List.of(inserted, older), 130)));
    assertThat(rows("t1")).as("the parent covered the part's keys through 150").containsExactly("1|2|s1");
  }

  @Test
  void aMergeThatRewindsAPartLowersThatPartsCheckpointSoAReplayInItsShapeSkipsNothingRewound() throws Exception {
    Sink sink = openWithT1("cf-merge");
    RowChange a = update(285, 1, 1, 7);
    RowChange b = update(298, 1, 7, 8);
    await(sink.write(batch(writer(), T1_LOW, 10, 100, List.of(insert(110, 1, 1), a, b), 300)));
    await(sink.write(batch(writer(), T1_HIGH, 10, 100, List.of(), 280)));
    assertThat(rows("t1")).containsExactly("1|8|s1");

    // The merge restarts from the lowest of its parts' checkpoints (280) and re-applies key 1's older version...
    await(sink.write(batch(writer(), T1, 10, 280, List.of(a), 290)));
    assertThat(rows("t1")).containsExactly("1|7|s1");
    assertThat(POSTGRES.server().psql(database, "SELECT checkpoint_ts FROM feedline.spans WHERE table_id = 1 AND end_key = 'm'::bytea"))
        .as("the rewound part no longer vouches for anything above 280").isEqualTo("280");
    // ...and its owner dies. A replay in the part's shape (say, the range split again) re-applies from 280: nothing is lost.
    await(sink.write(batch(writer(), T1_LOW, 11, 280, List.of(a, b), 300)));
    assertThat(rows("t1")).containsExactly("1|8|s1");
  }

  /** Simulation seed 5040 found this: a merged shape's replay re-inserted rows a TRUNCATE had already wiped, for good. */
  @Test
  void aReplayAcrossAnAppliedTruncateDoesNotBringBackTheRowsItWiped() throws Exception {
    Sink sink = openWithT1("cf-truncate-replay");
    RowChange wiped = insert(110, 1, 1);
    await(sink.write(batch(writer(), T1_LOW, 10, 100, List.of(wiped, update(120, 1, 1, 2)), 290)));
    await(sink.write(batch(writer(), T1_HIGH, 10, 100, List.of(), 105)));
    // Both parts reached the TRUNCATE at 300 (the high one with nothing to record since 105); the trigger applies it.
    await(sink.write(batch(writer(), TRIGGER, 10, 299, List.of(ddl(300, DdlEvent.Type.TRUNCATE_TABLE)), 300)));
    assertThat(rows("t1")).isEmpty();

    // A new owner merges the parts and starts from the lowest of their checkpoints, below the TRUNCATE.
    await(sink.write(batch(writer(), T1, 11, 105, List.of(wiped, update(120, 1, 1, 2)), 299)));
    assertThat(rows("t1")).as("the TRUNCATE at 300 wiped key 1; no replay of older changes brings it back").isEmpty();
    await(sink.write(batch(writer(), T1, 11, 299, List.of(insert(310, 2, 3)), 320)));
    assertThat(rows("t1")).as("changes above the TRUNCATE still apply").containsExactly("2|3|s2");
  }

  /** The same for a DROP: a re-created table starts empty, whatever a replay of the old one's rows says. */
  @Test
  void aReplayAcrossAnAppliedDropDoesNotBringTheOldTablesRowsIntoTheNewOne() throws Exception {
    Sink sink = openWithT1("cf-drop-replay");
    RowChange old = insert(110, 1, 1);
    await(sink.write(batch(writer(), T1_LOW, 10, 100, List.of(old), 290)));
    await(sink.write(batch(writer(), T1_HIGH, 10, 100, List.of(), 105)));
    DispatcherKey trigger = writer();
    await(sink.write(batch(trigger, TRIGGER, 10, 299, List.of(ddl(300, DdlEvent.Type.DROP_TABLE)), 300)));
    await(sink.write(batch(trigger, TRIGGER, 10, 309, List.of(create(310)), 310)));
    assertThat(rows("t1")).isEmpty();

    await(sink.write(batch(writer(), T1, 11, 105, List.of(old, insert(320, 2, 3)), 330)));
    assertThat(rows("t1")).as("the DROP at 300 ended key 1 with the old table").containsExactly("2|3|s2");
    assertThat(POSTGRES.server().psql(database, "SELECT cleared_ts FROM feedline.tables WHERE changefeed = 'cf-drop-replay' AND table_id = 1"))
        .isEqualTo("300");
  }

  @Test
  void aValueTooLongForItsColumnFailsTheWriteInsteadOfBeingCut() throws Exception {
    Sink sink = openWithT1("cf-long");
    Map<String, Object> row = image(1, 11);
    row.put("v1", "x".repeat(30));
    Throwable err = failure(sink.write(batch(writer(), T1, 10, 100, List.of(new RowChange(1, 110, RowChange.Op.INSERT, DatagenModel.keyBytes(1), Map.of(), row)), 120)));
    assertThat(err).hasMessageContaining("too long");
    assertThat(rows("t1")).isEmpty();
  }

  @Test
  void aZombieOfAnOlderEpochIsRefusedByTheDatabaseAndTheNewerRowsStay() throws Exception {
    Writers w = zombieAtEpoch10("cf-zombie");
    Sink zombieSink = w.zombieSink();
    Sink ownerSink = w.ownerSink();
    DispatcherKey zombie = w.zombie();

    DispatcherKey owner = writer();
    await(ownerSink.write(batch(owner, T1, 20, 100, List.of(insert(110, 1, 11), update(120, 1, 11, 12)), 125)));
    Throwable refused = failure(zombieSink.write(batch(zombie, T1, 10, 115, List.of(update(118, 1, 11, 99)), 119)));

    assertThat(refused).isInstanceOf(FencedWriteException.class).hasMessageContaining("at epoch 10 refused");
    assertThat(rows("t1")).containsExactly("1|12|s1");
    assertThat(metrics.counter("feedline.sink.fenced_writes", "sink", "postgresql", "changefeed", "cf-zombie").count()).isEqualTo(1);
    assertThat(POSTGRES.server().psql(database, "SELECT epoch, checkpoint_ts FROM feedline.spans WHERE table_id = 1")).isEqualTo("20|125");

    // The span's own token refuses it as well: with the changefeed's token set back by hand, the span row still says 20.
    POSTGRES.server().psql(database, "UPDATE feedline.changefeeds SET epoch = 10");
    Throwable bySpan = failure(zombieSink.write(batch(zombie, T1, 10, 115, List.of(update(118, 1, 11, 99)), 119)));
    assertThat(bySpan).isInstanceOf(FencedWriteException.class).hasMessageContaining("the span's fencing token is epoch 20 (dispatcher " + owner);
    assertThat(rows("t1")).containsExactly("1|12|s1");
  }

  @Test
  void aZombieHoldingTheShapeBeforeASplitIsRefusedToo() throws Exception {
    Writers w = zombieAtEpoch10("cf-split");
    Sink zombieSink = w.zombieSink();
    Sink ownerSink = w.ownerSink();
    DispatcherKey zombie = w.zombie();

    // Epoch 20 owns T1 split in two; the whole-table span's own row still says epoch 10.
    await(ownerSink.write(batch(writer(), T1_LOW, 20, 115, List.of(update(120, 1, 11, 12)), 125)));
    await(ownerSink.write(batch(writer(), T1_HIGH, 20, 115, List.of(), 125)));
    Throwable refused = failure(zombieSink.write(batch(zombie, T1, 10, 115, List.of(update(121, 1, 11, 98)), 130)));

    assertThat(refused).isInstanceOf(FencedWriteException.class).hasMessageContaining("the changefeed has been written at epoch 20");
    assertThat(rows("t1")).containsExactly("1|12|s1");
    assertThat(metrics.counter("feedline.sink.fenced_writes", "sink", "postgresql", "changefeed", "cf-split").count()).isEqualTo(1);
  }

  @Test
  void aTableWithoutPrimaryKeyIsRefusedWithAClearError() throws Exception {
    TableSchemas noKey = (id, ts) -> Future.succeededFuture(new TableSchema(id, "t" + id, List.of(new ColumnSchema("id", "BIGINT", false)), List.of()));
    Sink sink = open("cf-nokey", noKey);
    Throwable err = failure(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    assertThat(err).isInstanceOf(UnwritableSchemaException.class).hasMessageContaining("t1 has no primary key");

    // An existing downstream table without a key is refused as well, before any row goes in.
    POSTGRES.server().psql(database, "CREATE TABLE public.t2 (id bigint, v0 bigint, v1 varchar(24))");
    Sink keyed = open("cf-nokey-2", DATAGEN_LIKE);
    Throwable existing = failure(keyed.write(batch(writer(), TableSpan.newBuilder().setTableId(2).build(), 10, 100,
        List.of(new RowChange(2, 110, RowChange.Op.INSERT, DatagenModel.keyBytes(1), Map.of(), image(1, 11))), 120)));
    assertThat(existing).isInstanceOf(UnwritableSchemaException.class).hasMessageContaining("has no primary key");
    assertThat(POSTGRES.server().psql(database, "SELECT count(*) FROM public.t2")).isEqualTo("0");
  }

  @Test
  void anUpstreamTypeWithNoCounterpartIsRefused() throws Exception {
    TableSchemas odd = (id, ts) -> Future.succeededFuture(new TableSchema(id, "t" + id,
        List.of(new ColumnSchema("id", "BIGINT", false), new ColumnSchema("g", "GEOMETRY", true)), List.of("id")));
    Sink sink = open("cf-type", odd);
    Throwable err = failure(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    assertThat(err).isInstanceOf(UnwritableSchemaException.class).hasMessageContaining("column g of table t1").hasMessageContaining("GEOMETRY");
  }

  @Test
  void aTableThatExistedBeforeTheStartIsCreatedFromTheUpstreamSchemaOnItsFirstRow() throws Exception {
    Sink sink = open("cf-existing", DATAGEN_LIKE);
    await(sink.write(batch(writer(), T1, 10, ADD_COLUMN_TS + 10, List.of(insertWithExtra(ADD_COLUMN_TS + 20, 1, 11, 3)), ADD_COLUMN_TS + 30)));
    assertThat(columns("t1")).containsExactly("id:bigint", "v0:bigint", "v1:character varying(24)", "extra:integer");
    assertThat(rows("t1")).containsExactly("1|11|s1|3");
  }

  @Test
  void aColumnTheUpstreamAddedWithoutADdlEventIsAddedWithTheFirstRowThatCarriesIt() throws Exception {
    // As a source whose column changes reach the sink only with the rows: no DDL event, the upstream's definition and
    // the rows carry it (also what a PostgreSQL sink meets when another node added the column first).
    Sink sink = openWithT1("cf-evolve");
    await(sink.write(batch(writer(), T1, 10, 100, List.of(insert(110, 1, 11)), 120)));
    Sink later = open("cf-evolve", (id, ts) -> DATAGEN_LIKE.schemaAt(id, ADD_COLUMN_TS));
    await(later.write(batch(writer(), T1, 10, 120, List.of(insertWithExtra(130, 2, 12, 5)), 140)));
    assertThat(columns("t1")).containsExactly("id:bigint", "v0:bigint", "v1:character varying(24)", "extra:integer");
    assertThat(rows("t1")).containsExactly("1|11|s1|", "2|12|s2|5");
  }

  @Test
  void aDroppedColumnIsDroppedDownstreamAndTheDownstreamsOwnColumnsStay() throws Exception {
    long dropTs = 800;
    TableSchemas v1DroppedAt800 = (id, ts) -> DATAGEN_LIKE.schemaAt(id, 0).map(t -> ts < dropTs ? t
        : new TableSchema(id, t.name(), t.columns().stream().filter(c -> !c.name().equals("v1")).toList(), t.primaryKey()));
    DdlEvent dropV1 = new DdlEvent(1, dropTs, DdlEvent.Type.DROP_COLUMN, "t1", "ALTER TABLE t1 DROP COLUMN v1", "v1");
    Sink sink = open("cf-drop-column", v1DroppedAt800);
    await(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    POSTGRES.server().psql(database, "ALTER TABLE t1 ADD COLUMN mine text DEFAULT 'kept'"); // the user's own, not the upstream's
    await(sink.write(batch(writer(), T1, 10, 100, List.of(insert(110, 1, 11)), 120)));
    await(sink.write(batch(writer(), TRIGGER, 10, 100, List.of(dropV1), dropTs)));
    assertThat(columns("t1")).containsExactly("id:bigint", "v0:bigint", "mine:text");
    Map<String, Object> withoutV1 = new LinkedHashMap<>(image(2, 21));
    withoutV1.remove("v1");
    await(sink.write(batch(writer(), T1, 10, 120, List.of(new RowChange(1, 810, RowChange.Op.INSERT, DatagenModel.keyBytes(2), Map.of(), withoutV1)),
        820)));
    assertThat(rows("t1")).containsExactly("1|11|kept", "2|21|kept");
    await(sink.write(batch(writer(), TRIGGER, 10, 100, List.of(dropV1), dropTs)));
    assertThat(columns("t1")).as("a replayed drop changes nothing").containsExactly("id:bigint", "v0:bigint", "mine:text");
  }

  @Test
  void anUpdateThatLeavesOutAnUnchangedColumnKeepsItsValueWithinABatchAndAcrossBatches() throws Exception {
    Sink sink = openWithT1("cf-toast");
    Map<String, Object> withoutV1 = new LinkedHashMap<>(image(1, 12));
    withoutV1.remove("v1"); // as an UPDATE that did not touch a TOASTed column arrives from PostgreSQL
    RowChange partial = new RowChange(1, 120, RowChange.Op.UPDATE, DatagenModel.keyBytes(1), Map.of(), withoutV1);
    await(sink.write(batch(writer(), T1, 10, 100, List.of(insert(110, 1, 11), partial), 125)));
    assertThat(rows("t1")).as("the insert and the partial update in one batch").containsExactly("1|12|s1");
    Map<String, Object> again = new LinkedHashMap<>(image(1, 13));
    again.remove("v1");
    await(sink.write(batch(writer(), T1, 10, 125, List.of(new RowChange(1, 130, RowChange.Op.UPDATE, DatagenModel.keyBytes(1), Map.of(), again)),
        135)));
    assertThat(rows("t1")).as("a partial update of a row only downstream").containsExactly("1|13|s1");
  }

  @Test
  void randomHistoriesWrittenInRandomBatchesWithReplaysEndAsTheHistorySays() throws Exception {
    long seed = TestSeeds.seed(1L);
    Random random = new Random(seed);
    for (int round = 0; round < 8; round++) {
      POSTGRES.server().psql(database, "DROP TABLE IF EXISTS public.t1");
      Sink sink = open("cf-random-" + round, DATAGEN_LIKE);
      await(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
      Map<Long, Long> expected = new TreeMap<>();
      List<ChangeEvent> history = randomHistory(random, expected);
      DispatcherKey w = writer();
      long checkpoint = 100;
      int i = 0;
      while (i < history.size()) {
        List<ChangeEvent> chunk = history.subList(i, Math.min(history.size(), i + 1 + random.nextInt(60)));
        long resolved = chunk.get(chunk.size() - 1).commitTs();
        await(sink.write(batch(w, T1, 10, checkpoint, chunk, resolved)));
        if (random.nextInt(4) == 0) {
          // A successor replays from a random earlier point, as after a crash or a commit whose answer was lost.
          w = writer();
          i = random.nextInt(i + chunk.size());
          checkpoint = i == 0 ? 100 : history.get(i - 1).commitTs();
          continue;
        }
        checkpoint = resolved;
        i += chunk.size();
      }
      List<String> want = expected.entrySet().stream().map(e -> e.getKey() + "|" + e.getValue() + "|s" + e.getKey()).toList();
      assertThat(rows("t1")).as("round %d, %s", round, TestSeeds.replay(seed, PostgresSinkTest.class)).isEqualTo(want);
    }
  }

  /** 400 changes of 40 keys of t1 from ts 100 on; {@code expected} ends as the table should. */
  private static List<ChangeEvent> randomHistory(Random random, Map<Long, Long> expected) {
    List<ChangeEvent> history = new ArrayList<>();
    long ts = 100;
    for (int i = 0; i < 400; i++) {
      ts += 1 + random.nextInt(3);
      long key = random.nextInt(40);
      Long old = expected.get(key);
      long v = random.nextInt(1000);
      if (old == null) {
        history.add(insert(ts, key, v));
        expected.put(key, v);
      } else if (random.nextBoolean()) {
        history.add(update(ts, key, old, v));
        expected.put(key, v);
      } else {
        history.add(delete(ts, key, old));
        expected.remove(key);
      }
    }
    return history;
  }

  @Test
  void credentialsComeFromTheUriOrTheEnvironmentAndAWrongOneIsAClearErrorWithoutThePassword() throws Exception {
    String base = "postgresql://" + PostgresServer.PASSWORD_USER + "%s@127.0.0.1:" + POSTGRES.server().port() + "/" + database;
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), metrics).forChangefeed("cf-auth").withSchemas(DATAGEN_LIKE);
    opened.add(await(new PostgresSinkProvider(Map.of()).open(uri(base, ":" + PostgresServer.PASSWORD), context)));
    opened.add(await(new PostgresSinkProvider(Map.of("PGPASSWORD", PostgresServer.PASSWORD)).open(uri(base, ""), context)));

    Throwable wrong = failure(new PostgresSinkProvider(Map.of()).open(uri(base, ":not-the-password"), context));
    assertThat(wrong).hasMessageContaining("cannot open postgresql sink postgresql://secured:***@127.0.0.1")
        .hasMessageContaining("password authentication failed");
    assertThat(wrong.toString()).doesNotContain("not-the-password");
    Throwable none = failure(new PostgresSinkProvider(Map.of()).open(uri(base, ""), context));
    assertThat(none.getMessage()).contains("cannot open postgresql sink");
  }

  @Test
  void anUnreachableServerIsAClearError() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), metrics).forChangefeed("cf-down");
    Throwable down = failure(new PostgresSinkProvider(Map.of()).open(
        uri("postgresql://app:hunter2@127.0.0.1:" + closedPort + "/db%s", ""), context));
    assertThat(down.getMessage()).contains("cannot open postgresql sink postgresql://app:***@127.0.0.1:" + closedPort).doesNotContain("hunter2");
  }

  @Test
  void sslmodeRequireRefusesAServerWithoutTls() throws Exception {
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), metrics).forChangefeed("cf-tls");
    Throwable refused = failure(new PostgresSinkProvider(Map.of()).open(uri(POSTGRES.server().uri(database) + "?sslmode=%s", "require"), context));
    assertThat(refused.getMessage()).contains("cannot open postgresql sink").containsIgnoringCase("ssl");
    opened.add(await(new PostgresSinkProvider(Map.of()).open(uri(POSTGRES.server().uri(database) + "?sslmode=%s", "prefer"), context)));
  }

  private static EndpointUri uri(String pattern, String arg) {
    return EndpointUri.parse("sink", String.format(pattern, arg));
  }

  // ---- helpers ----

  /** Two sinks of one changefeed (two nodes) and the dispatcher of epoch 10 that will turn zombie. */
  private record Writers(Sink zombieSink, Sink ownerSink, DispatcherKey zombie) {}

  /** Table t1 created, and row 1 written by a dispatcher of epoch 10 through the first sink. */
  private Writers zombieAtEpoch10(String changefeed) throws Exception {
    Writers w = new Writers(open(changefeed, DATAGEN_LIKE), open(changefeed, DATAGEN_LIKE), writer());
    await(w.zombieSink().write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    await(w.zombieSink().write(batch(w.zombie(), T1, 10, 100, List.of(insert(110, 1, 11)), 115)));
    return w;
  }

  /** datagen's tables: id, v0, v1, and from {@link #ADD_COLUMN_TS} on extra. */
  private static final TableSchemas DATAGEN_LIKE = (id, ts) -> {
    List<ColumnSchema> columns = new ArrayList<>(List.of(new ColumnSchema("id", "BIGINT", false), new ColumnSchema("v0", "BIGINT", true),
        new ColumnSchema("v1", "VARCHAR(24)", true)));
    if (ts >= ADD_COLUMN_TS) {
      columns.add(new ColumnSchema("extra", "INT", true));
    }
    return Future.succeededFuture(new TableSchema(id, "t" + id, columns, List.of("id")));
  };

  /** A sink of {@code changefeed} whose trigger has created t1 at ts 100. */
  private Sink openWithT1(String changefeed) throws Exception {
    Sink sink = open(changefeed, DATAGEN_LIKE);
    await(sink.write(batch(writer(), TRIGGER, 10, 0, List.of(create(100)), 100)));
    return sink;
  }

  private Sink open(String changefeed, TableSchemas schemas) throws Exception {
    EndpointContext context = new EndpointContext(vertx, new ManualScheduler(0), metrics).forChangefeed(changefeed).withSchemas(schemas);
    Sink sink = await(new ProviderEndpoints().openSink(POSTGRES.server().uri(database), context));
    opened.add(sink);
    return sink;
  }

  private static DispatcherKey writer() {
    return DispatcherKey.random(new Random());
  }

  private static SinkBatch batch(DispatcherKey writer, TableSpan span, long epoch, long fromTs, List<ChangeEvent> events, long resolvedTs) {
    return new SinkBatch(writer, span, false, epoch, fromTs, events, resolvedTs);
  }

  private static DdlEvent create(long ts) {
    return ddl(ts, DdlEvent.Type.CREATE_TABLE);
  }

  private static DdlEvent ddl(long ts, DdlEvent.Type type) {
    return new DdlEvent(1, ts, type, "t1", type.name() + " t1");
  }

  private static Map<String, Object> image(long id, long v0) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("v0", v0);
    m.put("v1", "s" + id);
    return m;
  }

  private static RowChange insert(long ts, long id, long v0) {
    return new RowChange(1, ts, RowChange.Op.INSERT, DatagenModel.keyBytes(id), Map.of(), image(id, v0));
  }

  private static RowChange insertWithExtra(long ts, long id, long v0, int extra) {
    Map<String, Object> m = image(id, v0);
    m.put("extra", extra);
    return new RowChange(1, ts, RowChange.Op.INSERT, DatagenModel.keyBytes(id), Map.of(), m);
  }

  private static RowChange update(long ts, long id, long oldV0, long v0) {
    return new RowChange(1, ts, RowChange.Op.UPDATE, DatagenModel.keyBytes(id), image(id, oldV0), image(id, v0));
  }

  private static RowChange delete(long ts, long id, long oldV0) {
    return new RowChange(1, ts, RowChange.Op.DELETE, DatagenModel.keyBytes(id), image(id, oldV0), Map.of());
  }

  private List<String> rows(String table) {
    String out = POSTGRES.server().psql(database, "SELECT * FROM public." + table + " ORDER BY id");
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }

  private List<String> columns(String table) {
    return List.of(POSTGRES.server().psql(database, "SELECT attname || ':' || format_type(atttypid, atttypmod) FROM pg_attribute "
        + "WHERE attrelid = 'public." + table + "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum").split("\n"));
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static Throwable failure(Future<?> future) throws Exception {
    try {
      future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("the write succeeded");
  }
}
