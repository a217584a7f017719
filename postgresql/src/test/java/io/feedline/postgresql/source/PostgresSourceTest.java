package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.common.span.TableSpans;
import io.feedline.common.testing.PostgresServer;
import io.feedline.common.testing.PostgresServerExtension;
import io.feedline.common.time.VertxScheduler;
import io.feedline.dispatcher.endpoint.EndpointContext;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.endpoint.InvalidEndpointException;
import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.TableSchema;
import io.feedline.dispatcher.source.ChangeBatch;
import io.feedline.dispatcher.source.Source;
import io.feedline.dispatcher.source.SourceSubscription;
import io.feedline.proto.TableInfo;
import io.feedline.proto.TableSpan;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The postgresql source against a real PostgreSQL 15: set-up checks, capture, positions, resume, slots. */
class PostgresSourceTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  @RegisterExtension
  static final PostgresServerExtension POSTGRES = new PostgresServerExtension();

  private Vertx vertx;
  private Context lane;
  private String database;
  private String changefeed;
  private final List<Source> opened = new ArrayList<>();
  private final PostgresSourceProvider provider = new PostgresSourceProvider(Map.of());

  @BeforeEach
  void setUp(TestInfo test) {
    vertx = Vertx.vertx();
    lane = vertx.getOrCreateContext();
    String name = test.getTestMethod().orElseThrow().getName().toLowerCase();
    database = POSTGRES.server().createDatabase("src_" + name.substring(0, Math.min(40, name.length())));
    changefeed = "cf-" + name;
    POSTGRES.server().psql(database, "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz, "
        + "flag boolean, note text)");
    POSTGRES.server().psql(database, "CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b))");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Source s : opened) {
      onLane(s::close);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void createRefusesWhatTheServerCannotDoAndSaysWhatToChange() throws Exception {
    POSTGRES.server().psql(database, "CREATE ROLE plain LOGIN");
    assertRefused("postgresql://plain@127.0.0.1:" + POSTGRES.server().port() + "/" + database, "ALTER ROLE \"plain\" REPLICATION");
    // A replication role may read, but only a superuser installs the event triggers that capture schema changes.
    POSTGRES.server().psql(database, "CREATE ROLE reader LOGIN REPLICATION");
    assertRefused("postgresql://reader@127.0.0.1:" + POSTGRES.server().port() + "/" + database, "feedline source setup");
    POSTGRES.server().psql(database, "CREATE TABLE nokey (x int)");
    assertRefused(uri(""), "public.nokey: no primary key or replica identity index");
    POSTGRES.server().psql(database, "CREATE TABLE other_identity (id int PRIMARY KEY, u int NOT NULL UNIQUE); "
        + "ALTER TABLE other_identity REPLICA IDENTITY USING INDEX other_identity_u_key");
    assertRefused(uri("?tables=public.*,!public.nokey"), "public.other_identity: a replica identity index other than its primary key");
    POSTGRES.server().psql(database, "DROP TABLE other_identity");
    POSTGRES.server().psql(database, "CREATE PUBLICATION partial FOR TABLE items");
    assertRefused(uri("?publication=partial&tables=public.items,public.pairs"), "does not publish captured tables public.pairs");
    assertRefused(uri("?tables=app.*"), "captures no table");
    assertRefused(uri("?publication=nope&tables=public.*,!public.nokey"), "publication nope does not exist");
    // Every slot taken (physical ones are made at once): a changefeed needs one, and one per reading node.
    int free = Integer.parseInt(POSTGRES.server().psql("postgres",
        "SELECT current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)").strip());
    for (int i = 0; i < free; i++) {
      POSTGRES.server().psql("postgres", "SELECT pg_create_physical_replication_slot('filler_" + i + "')");
    }
    try {
      assertRefused(uri("?tables=public.*,!public.nokey"), "no free replication slot");
    } finally {
      for (int i = 0; i < free; i++) {
        POSTGRES.server().psql("postgres", "SELECT pg_drop_replication_slot('filler_" + i + "')");
      }
    }
    // Leaving the keyless table out, the same server serves it.
    assertThat(await(provider.prepare(EndpointUri.parse("source", uri("?tables=public.*,!public.nokey")), changefeed, 0, vertx))).isPositive();
    try (PostgresServer physicalOnly = PostgresServer.start("wal_level=replica")) {
      physicalOnly.createDatabase("app");
      physicalOnly.psql("app", "CREATE TABLE t (id int PRIMARY KEY)");
      assertRefused("postgresql://" + PostgresServer.SUPERUSER + "@127.0.0.1:" + physicalOnly.port() + "/app", "wal_level = logical");
    }
  }

  @Test
  void capturesRowsWithTheirKeysValuesAndWalPositionsTheSameOnEveryNode() throws Exception {
    long start = prepare("");
    Source node1 = open("");
    Map<String, SourceSubscription> subs1 = subscribeAll(node1, start);
    POSTGRES.server().psql(database, "INSERT INTO items VALUES (1, 'one', 1.50, '2026-12-06 10:00:00+00', true, NULL), "
        + "(2, 'two', 2.00, NULL, false, 'n'), (3, 'three', NULL, NULL, NULL, NULL)");
    POSTGRES.server().psql(database, "BEGIN; UPDATE items SET price = 9.99 WHERE id = 1; UPDATE items SET id = 20 WHERE id = 2; DELETE FROM items WHERE id = 3; COMMIT");
    POSTGRES.server().psql(database, "INSERT INTO pairs VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3)");
    POSTGRES.server().psql(database, "BEGIN; INSERT INTO pairs VALUES (9, 'z', 9); TRUNCATE pairs; INSERT INTO pairs VALUES (5, chr(233), 5); COMMIT");
    long end = currentLsn();

    List<ChangeEvent> items = drain(subs1.get("items"), end);
    assertThat(items).extracting(PostgresSourceTest::describe).containsExactly(
        "INSERT id=1", "INSERT id=2", "INSERT id=3", "UPDATE id=1", "DELETE id=2", "INSERT id=20", "DELETE id=3");
    RowChange one = (RowChange) items.get(0);
    assertThat(one.after()).containsEntry("id", 1L).containsEntry("name", "one").containsEntry("price", "1.50")
        .containsEntry("at", "2026-12-06 10:00:00+00").containsEntry("flag", true).containsEntry("note", null);
    assertThat(items.subList(0, 3)).extracting(ChangeEvent::commitTs).containsOnly(items.get(0).commitTs());
    assertThat(items.subList(3, 7)).extracting(ChangeEvent::commitTs).containsOnly(items.get(3).commitTs());
    assertThat(items.get(3).commitTs()).isGreaterThan(items.get(0).commitTs());
    assertThat(((RowChange) items.get(3)).after()).containsEntry("price", "9.99");

    List<ChangeEvent> pairs = drain(subs1.get("pairs"), end);
    assertThat(pairs).extracting(PostgresSourceTest::describe).containsExactly(
        "INSERT a=1,b=x", "INSERT a=1,b=y", "INSERT a=2,b=x", "TRUNCATE_TABLE", "INSERT a=5,b=é");
    assertThat(pairs.get(3).commitTs()).as("the truncate sits just below its transaction's rows").isEqualTo(pairs.get(4).commitTs() - 1);
    assertThat(drain(subs1.get("ddl"), end)).singleElement().satisfies(d -> assertThat(((DdlEvent) d).tableId()).isEqualTo(pairs.get(3).tableId()));

    // A second node reading the same WAL gives every change the same position.
    Source node2 = open("");
    Map<String, SourceSubscription> subs2 = subscribeAll(node2, start);
    assertThat(drain(subs2.get("items"), end)).isEqualTo(items);
    assertThat(drain(subs2.get("pairs"), end)).isEqualTo(pairs);

    List<TableInfo> tables = await(onLaneFuture(() -> node1.tablesAt(end)));
    assertThat(tables).extracting(TableInfo::getName).containsExactlyInAnyOrder("public.items", "public.pairs");
    TableSchema schema = await(onLaneFuture(() -> node1.schemaAt(one.tableId(), end)));
    assertThat(schema.name()).isEqualTo("items");
    assertThat(schema.primaryKey()).containsExactly("id");
    assertThat(schema.column("price").type()).isEqualTo("numeric(10,2)");
  }

  @Test
  void schemaChangesComeAtTheirPositionsAndTablesAtTellsWhichTablesExistedAtAPastPosition() throws Exception {
    long start = prepare("");
    Source source = open("");
    TableSpan items = table(source, "items");
    TableSpan pairs = table(source, "pairs");
    SourceSubscription ddl = subscribe(source, TableSpans.ddlSpan(), start);
    POSTGRES.server().psql(database, "BEGIN; CREATE TABLE later (id int PRIMARY KEY, v text); INSERT INTO later VALUES (1, 'born with a row'); COMMIT");
    POSTGRES.server().psql(database, "CREATE TABLE later_nokey (v text)"); // not capturable: no event, not published
    POSTGRES.server().psql(database, "CREATE TABLE audit (id int PRIMARY KEY)");
    POSTGRES.server().psql(database, "ALTER TABLE items ADD COLUMN extra int, DROP COLUMN note");
    POSTGRES.server().psql(database, "INSERT INTO items (id, name, extra) VALUES (1, 'after', 7)");
    POSTGRES.server().psql(database, "INSERT INTO pairs VALUES (1, 'x', 1)");
    POSTGRES.server().psql(database, "DROP TABLE pairs");
    long end = currentLsn();

    List<ChangeEvent> ddls = drain(ddl, end);
    assertThat(ddls).extracting(PostgresSourceTest::describe)
        .containsExactly("CREATE_TABLE", "CREATE_TABLE", "ADD_COLUMN", "DROP_COLUMN", "DROP_TABLE");
    DdlEvent created = (DdlEvent) ddls.get(0);
    assertThat(created.tableName()).isEqualTo("later");
    assertThat(ddls.get(3).commitTs()).as("one ALTER's changes, in order, at consecutive positions").isEqualTo(ddls.get(2).commitTs() + 1);
    assertThat(POSTGRES.server().psql(database, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = '"
        + SourceSpec.anchorSlot(changefeed) + "'").strip()).as("the owned publication follows the rules").isEqualTo("audit,items,later");
    TableSpan later = TableSpan.newBuilder().setTableId(created.tableId()).build();
    assertThat(drain(subscribe(source, later, created.commitTs()), end)).extracting(PostgresSourceTest::describe).containsExactly("INSERT id=1");

    assertThat(names(source, start)).containsExactly("public.items", "public.pairs");
    assertThat(names(source, created.commitTs() - 1)).as("before its CREATE").containsExactly("public.items", "public.pairs");
    assertThat(names(source, created.commitTs())).containsExactly("public.items", "public.later", "public.pairs");
    assertThat(names(source, ddls.get(4).commitTs() - 1)).containsExactly("public.audit", "public.items", "public.later", "public.pairs");
    assertThat(names(source, end)).containsExactly("public.audit", "public.items", "public.later");

    long itemsId = items.getTableId();
    assertThat(columns(source, itemsId, ddls.get(3).commitTs())).contains("extra").doesNotContain("note");
    assertThat(columns(source, created.tableId(), created.commitTs())).containsExactly("id", "v");
    RowChange after = (RowChange) drain(subscribe(source, items, ddls.get(3).commitTs()), end).get(0);
    assertThat(after.after()).containsEntry("extra", 7).doesNotContainKey("note");

    // Another node, opened now, knows the same past from the upstream's history.
    Source fresh = open("");
    assertThat(names(fresh, created.commitTs() - 1)).containsExactly("public.items", "public.pairs");
    assertThat(names(fresh, ddls.get(4).commitTs() - 1)).containsExactly("public.audit", "public.items", "public.later", "public.pairs");
    // Resuming from before the DROP, the dropped table's rows still come (known from the stream alone), then its DROP.
    assertThat(drain(subscribe(fresh, pairs, start), end)).extracting(PostgresSourceTest::describe).containsExactly("INSERT a=1,b=x", "DROP_TABLE");
    assertThat(drain(subscribe(fresh, TableSpans.ddlSpan(), start), end)).isEqualTo(ddls);
  }

  @Test
  void aReplicationRoleCapturesOnceASuperuserRanTheSetUpItPrints() throws Exception {
    POSTGRES.server().psql(database, "CREATE ROLE replicator LOGIN REPLICATION; CREATE PUBLICATION everything FOR ALL TABLES");
    String readerUri = "postgresql://replicator@127.0.0.1:" + POSTGRES.server().port() + "/" + database + "?publication=everything";
    POSTGRES.server().psql(database, PostgresSourceSetup.script(EndpointUri.parse("source", readerUri), Map.of(), "replicator"));
    long start = await(provider.prepare(EndpointUri.parse("source", readerUri), changefeed, 0, vertx));
    POSTGRES.server().psql(database, "CREATE ROLE bystander LOGIN REPLICATION");
    assertRefused("postgresql://bystander@127.0.0.1:" + POSTGRES.server().port() + "/" + database + "?publication=everything",
        "role bystander was not granted the schema-change capture");
    Source source = await(onLaneFuture(() -> provider.open(EndpointUri.parse("source", readerUri),
        new EndpointContext(vertx, new VertxScheduler(vertx, lane, Clock.systemUTC()), new SimpleMeterRegistry()).forChangefeed(changefeed))));
    opened.add(source);
    SourceSubscription ddl = subscribe(source, TableSpans.ddlSpan(), start);
    POSTGRES.server().psql(database, "CREATE TABLE later (id int PRIMARY KEY)");
    long end = currentLsn();
    DdlEvent created = (DdlEvent) drain(ddl, end).get(0);
    assertThat(created.type()).isEqualTo(DdlEvent.Type.CREATE_TABLE);
    // The stream recorded where the DDL went with the reader's grants: the past is told exactly.
    assertThat(names(source, created.commitTs() - 1)).containsExactly("public.items", "public.pairs");
    assertThat(names(source, created.commitTs())).containsExactly("public.items", "public.later", "public.pairs");
  }

  @Test
  void aSpanResumesAtItsPositionWithoutLossOrRepeat() throws Exception {
    long start = prepare("");
    for (int i = 1; i <= 5; i++) {
      POSTGRES.server().psql(database, "INSERT INTO items VALUES (" + i + ", 'n" + i + "')");
    }
    long end = currentLsn();
    Source first = open("");
    List<ChangeEvent> all = drain(subscribe(first, table(first, "items"), start), end);
    assertThat(all).hasSize(5);
    long afterSecond = all.get(1).commitTs();
    // As after a move or a restart: another stream, from the checkpoint the span reached.
    Source resumed = open("");
    assertThat(drain(subscribe(resumed, table(resumed, "items"), afterSecond), end)).isEqualTo(all.subList(2, 5));
  }

  @Test
  void idleTablesAreResolvedByHeartbeats() throws Exception {
    long start = prepare("");
    Source source = open("");
    SourceSubscription idle = subscribe(source, table(source, "pairs"), start);
    POSTGRES.server().psql(database, "INSERT INTO items VALUES (1, 'busy elsewhere')");
    long end = currentLsn();
    assertThat(drain(idle, end)).isEmpty();
  }

  @Test
  void eachStreamReadsATemporarySlotThatGoesWithItAndRemoveDropsTheAnchor() throws Exception {
    long start = prepare("");
    String anchor = SourceSpec.anchorSlot(changefeed);
    Source source = open("");
    subscribe(source, table(source, "items"), start);
    awaitTrue(() -> slots().contains(anchor + "_r") && slots().contains(anchor + "|f"), "the stream's temporary slot exists beside the anchor");
    assertThat(slots()).contains(anchor + "_r");
    onLane(source::close);
    opened.remove(source);
    awaitTrue(() -> !slots().contains(anchor + "_r"), "the temporary slot is dropped with its connection");
    await(provider.release(EndpointUri.parse("source", uri("")), changefeed, vertx));
    assertThat(slots()).doesNotContain(anchor);
    assertThat(POSTGRES.server().psql(database, "SELECT count(*) FROM pg_publication WHERE pubname = '" + anchor + "'").strip()).isEqualTo("0");
  }

  // ---- helpers ----

  private String uri(String query) {
    return POSTGRES.server().uri(database) + query;
  }

  private long prepare(String query) throws Exception {
    return await(provider.prepare(EndpointUri.parse("source", uri(query)), changefeed, 0, vertx));
  }

  private void assertRefused(String sourceUri, String reason) {
    assertThatThrownBy(() -> await(provider.prepare(EndpointUri.parse("source", sourceUri), changefeed, 0, vertx)))
        .isInstanceOf(InvalidEndpointException.class).hasMessageContaining(reason);
  }

  private Source open(String query) throws Exception {
    EndpointContext context = new EndpointContext(vertx, new VertxScheduler(vertx, lane, Clock.systemUTC()), new SimpleMeterRegistry())
        .forChangefeed(changefeed);
    Source source = await(onLaneFuture(() -> provider.open(EndpointUri.parse("source", uri(query)), context)));
    opened.add(source);
    return source;
  }

  private Map<String, SourceSubscription> subscribeAll(Source source, long from) throws Exception {
    return Map.of("items", subscribe(source, table(source, "items"), from), "pairs", subscribe(source, table(source, "pairs"), from),
        "ddl", subscribe(source, TableSpans.ddlSpan(), from));
  }

  private TableSpan table(Source source, String name) throws Exception {
    long id = await(onLaneFuture(() -> source.tablesAt(currentLsn()))).stream().filter(t -> t.getName().equals("public." + name)).findFirst().orElseThrow().getTableId();
    return TableSpan.newBuilder().setTableId(id).build();
  }

  private List<String> names(Source source, long at) throws Exception {
    return await(onLaneFuture(() -> source.tablesAt(at))).stream().map(TableInfo::getName).sorted().toList();
  }

  private List<String> columns(Source source, long table, long at) throws Exception {
    return await(onLaneFuture(() -> source.schemaAt(table, at))).columns().stream().map(c -> c.name()).toList();
  }

  private SourceSubscription subscribe(Source source, TableSpan span, long from) throws Exception {
    return await(onLaneFuture(() -> source.subscribe(span, from)));
  }

  /** Reads a subscription until it has resolved {@code through}; returns its events. */
  private List<ChangeEvent> drain(SourceSubscription sub, long through) throws Exception {
    List<ChangeEvent> events = new ArrayList<>();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      ChangeBatch batch = onLane(() -> sub.poll(1000));
      if (batch != null) {
        events.addAll(batch.events());
        if (batch.resolvedTs() >= through) {
          return events;
        }
        continue;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("not resolved through " + Lsn.format(through) + " within " + WAIT + "; got " + events);
      }
      try {
        onLaneFuture(sub::available).toCompletionStage().toCompletableFuture().get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("not resolved through " + Lsn.format(through) + " within " + WAIT + "; got " + events);
      }
    }
  }

  /**
   * Where the WAL is inserted up to: past every commit so far. (Not pg_current_wal_lsn(), the written position,
   * which the test server's synchronous_commit=off lets lag behind the last commits.)
   */
  private long currentLsn() {
    return Lsn.parse(POSTGRES.server().psql(database, "SELECT pg_current_wal_insert_lsn()").strip());
  }

  /** Slot names, a temporary one with its anchor's name and "_r…", persistent ones also as "name|f". */
  private String slots() {
    return POSTGRES.server().psql("postgres", "SELECT string_agg(slot_name || CASE WHEN temporary THEN '' ELSE ' ' || slot_name || '|f' END, ' ') "
        + "FROM pg_replication_slots");
  }

  private static String describe(ChangeEvent e) {
    if (e instanceof DdlEvent d) {
      return d.type().name();
    }
    RowChange r = (RowChange) e;
    Map<String, Object> image = r.op() == RowChange.Op.DELETE ? r.before() : r.after();
    return r.op() + " " + (image.containsKey("id") ? "id=" + image.get("id") : "a=" + image.get("a") + ",b=" + image.get("b"));
  }

  private <T> T onLane(Supplier<T> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    lane.runOnContext(v -> {
      try {
        result.complete(work.get());
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    });
    return result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private <T> Future<T> onLaneFuture(Supplier<Future<T>> work) throws Exception {
    return onLane(work);
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static void awaitTrue(Supplier<Boolean> condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within " + WAIT);
      }
      Thread.sleep(50);
    }
  }
}
