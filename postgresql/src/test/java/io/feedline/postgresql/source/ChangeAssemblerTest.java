package io.feedline.postgresql.source;

import static io.feedline.postgresql.source.PgOutputBytes.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.feedline.dispatcher.event.ChangeEvent;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.event.RowChange;
import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.postgresql.source.ChangeAssembler.Transaction;
import io.feedline.postgresql.source.PgOutputDecoder.MalformedMessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeAssemblerTest {

  private static final long ORDERS = 16384;
  private static final long OTHER = 16390;
  private static final long CREATED = 16400;
  private static final List<String> COLUMN_NUMBERS = List.of("id", "name", "qty", "note", "more", "v");
  private static final UpstreamTable ORDERS_TABLE = new UpstreamTable(ORDERS, "public", "orders",
      List.of(new ColumnSchema("id", "bigint", false), new ColumnSchema("name", "text", true), new ColumnSchema("qty", "integer", true)),
      List.of(PgTypes.INT8, 25, PgTypes.INT4), List.of("id"));

  private final ChangeAssembler assembler = new ChangeAssembler(oid -> oid == ORDERS ? ORDERS_TABLE : null, (t, m) -> "type" + t,
      TableRules.parse("public.orders,public.created*"));

  @Test
  void rowsTakeTheCommitLsnAsTheirPositionAndTypedValues() {
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(PgOutputBytes.begin(0x2000, 5, 1));
    feed(message('I').i32((int) ORDERS).b('N').tuple("7", "seven", null).buffer());
    feed(message('U').i32((int) ORDERS).b('N').tuple("7", "SEVEN", "3").buffer());
    Transaction tx = commit(0x2000);
    assertThat(tx.commitLsn()).isEqualTo(0x2000);
    assertThat(tx.commitTimeMicros()).isEqualTo(5);
    assertThat(tx.events()).hasSize(2).allSatisfy(e -> assertThat(e.commitTs()).isEqualTo(0x2000));
    RowChange insert = (RowChange) tx.events().get(0);
    assertThat(insert.op()).isEqualTo(RowChange.Op.INSERT);
    assertThat(insert.after()).containsExactly(entry("id", 7L), entry("name", "seven"), entry("qty", null));
    assertThat(insert.key()).isEqualTo(KeyEncoding.encode(List.of(PgTypes.INT8), List.of("7")));
    RowChange update = (RowChange) tx.events().get(1);
    assertThat(update.op()).isEqualTo(RowChange.Op.UPDATE);
    assertThat(update.before()).isEmpty();
    assertThat(update.after()).containsEntry("qty", 3);
  }

  @Test
  void anUpdateOfTheKeyIsADeleteAndAnInsertEachWithItsOwnKey() {
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(PgOutputBytes.begin(0x3000, 5, 1));
    feed(message('U').i32((int) ORDERS).b('K').tuple("1", null, null).b('N').tuple("2", "x", "1").buffer());
    List<ChangeEvent> events = commit(0x3000).events();
    assertThat(events).extracting(e -> ((RowChange) e).op()).containsExactly(RowChange.Op.DELETE, RowChange.Op.INSERT);
    assertThat(((RowChange) events.get(0)).key()).isEqualTo(KeyEncoding.encode(List.of(PgTypes.INT8), List.of("1")));
    assertThat(((RowChange) events.get(0)).before()).containsExactly(entry("id", 1L), entry("name", null), entry("qty", null));
    assertThat(((RowChange) events.get(1)).key()).isEqualTo(KeyEncoding.encode(List.of(PgTypes.INT8), List.of("2")));
  }

  @Test
  void anUnchangedToastValueIsLeftOutSoTheSinkKeepsItsOwn() {
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(PgOutputBytes.begin(0x3000, 5, 1));
    feed(message('U').i32((int) ORDERS).b('N').tuple("1", PgOutputBytes.UNCHANGED, "4").buffer());
    assertThat(((RowChange) commit(0x3000).events().get(0)).after()).containsOnlyKeys("id", "qty");
  }

  @Test
  void aTruncateSitsJustBelowItsTransactionAndEndsTheRowsWrittenBeforeIt() {
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(PgOutputBytes.begin(0x4000, 5, 1));
    feed(message('I').i32((int) ORDERS).b('N').tuple("1", "gone", "1").buffer());
    feed(message('T').i32(2).b(0).i32((int) ORDERS).i32((int) OTHER).buffer());
    feed(message('I').i32((int) ORDERS).b('N').tuple("2", "kept", "1").buffer());
    List<ChangeEvent> events = commit(0x4000).events();
    assertThat(events).hasSize(2);
    DdlEvent truncate = (DdlEvent) events.get(0);
    assertThat(truncate.type()).isEqualTo(DdlEvent.Type.TRUNCATE_TABLE);
    assertThat(truncate.tableId()).isEqualTo(ORDERS);
    assertThat(truncate.commitTs()).isEqualTo(0x4000 - 1);
    assertThat(truncate.query()).isEqualTo("TRUNCATE TABLE \"public\".\"orders\"");
    assertThat(((RowChange) events.get(1)).after()).containsEntry("name", "kept");
  }

  @Test
  void changesOfTablesNotCapturedAreSkipped() {
    feed(relation(OTHER, "a"));
    feed(PgOutputBytes.begin(0x5000, 5, 1));
    feed(message('I').i32((int) OTHER).b('N').tuple("1").buffer());
    assertThat(commit(0x5000).events()).isEmpty();
  }

  @Test
  void aRelationMessageReshapesTheTableFromItsTransactionOn() {
    feed(PgOutputBytes.begin(0x5000, 5, 1));
    feed(relation(ORDERS, "id", "name", "qty", "extra"));
    assertThat(commit(0x5000).definitions()).singleElement().satisfies(d -> {
      assertThat(d.position()).isEqualTo(0x5000);
      assertThat(d.table().columns()).extracting(ColumnSchema::name).containsExactly("id", "name", "qty", "extra");
      assertThat(d.table().columns().get(1).type()).isEqualTo("text");
      assertThat(d.table().columns().get(3).type()).isEqualTo("type25");
    });
  }

  @Test
  void aTableCreatedLaterIsACreateTableBelowItsRowsAndIsCapturedOnlyWithAKeyAndWhenTheRulesSaySo() {
    feed(PgOutputBytes.begin(0x6000, 5, 1));
    feed(ddl(11, "create", CREATED, null, definition("created_one", true, "id", "v")));
    feed(ddl(12, "create", CREATED + 1, null, definition("created_nokey", false, "v")));
    feed(ddl(13, "create", CREATED + 2, null, definition("elsewhere", true, "id")));
    feed(namedRelation(CREATED, "created_one", "id", "v"));
    feed(message('I').i32((int) CREATED).b('N').tuple("1", "x").buffer());
    Transaction tx = commit(0x6000);
    assertThat(tx.ddlHistory()).as("every entry; a position only for what the changefeed captures").containsExactly(
        new ChangeAssembler.DdlEntry(11, 0x6000 - 1), new ChangeAssembler.DdlEntry(12, -1), new ChangeAssembler.DdlEntry(13, -1));
    assertThat(tx.events()).hasSize(2);
    DdlEvent create = (DdlEvent) tx.events().get(0);
    assertThat(create.type()).isEqualTo(DdlEvent.Type.CREATE_TABLE);
    assertThat(create.tableId()).isEqualTo(CREATED);
    assertThat(create.commitTs()).isEqualTo(0x6000 - 1);
    assertThat(tx.events().get(1).commitTs()).isEqualTo(0x6000);
    assertThat(tx.definitions()).filteredOn(d -> d.position() == 0x6000 - 1).singleElement()
        .satisfies(d -> assertThat(d.table().primaryKey()).containsExactly("id"));
  }

  @Test
  void columnsAddedAndDroppedAreDdlsInTheOrderTheyRanAndEarlierRowsLoseADroppedColumn() {
    feed(PgOutputBytes.begin(0x7000, 5, 1));
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(message('I').i32((int) ORDERS).b('N').tuple("1", "a", "3").buffer());
    JsonObject noted = definition("orders", true, "id", "name", "qty", "note");
    feed(ddl(20, "alter", ORDERS, definition("orders", true, "id", "name", "qty"), noted));
    feed(ddl(21, "alter", ORDERS, noted, definition("orders", true, "id", "name", "note")));
    Transaction tx = commit(0x7000);
    assertThat(tx.events()).hasSize(3);
    DdlEvent add = (DdlEvent) tx.events().get(0);
    DdlEvent drop = (DdlEvent) tx.events().get(1);
    assertThat(add.type()).isEqualTo(DdlEvent.Type.ADD_COLUMN);
    assertThat(add.column()).isEqualTo("note");
    assertThat(add.query()).isEqualTo("ALTER TABLE \"public\".\"orders\" ADD COLUMN \"note\" text");
    assertThat(add.commitTs()).isEqualTo(0x7000 - 2);
    assertThat(drop.type()).isEqualTo(DdlEvent.Type.DROP_COLUMN);
    assertThat(drop.column()).isEqualTo("qty");
    assertThat(drop.commitTs()).isEqualTo(0x7000 - 1);
    assertThat(((RowChange) tx.events().get(2)).after()).containsOnlyKeys("id", "name");
    assertThat(tx.definitions()).filteredOn(d -> d.position() == 0x7000 - 1).singleElement()
        .satisfies(d -> assertThat(d.table().columns()).extracting(ColumnSchema::name).containsExactly("id", "name", "note"));
  }

  @Test
  void aTableGivenAKeyLaterIsCreatedThenAndOneTheTriggerNeverRecordedIsRedefinedWithoutEvents() {
    feed(PgOutputBytes.begin(0xB000, 5, 1));
    feed(ddl(40, "alter", CREATED, definition("created_late", false, "id", "v"), definition("created_late", true, "id", "v")));
    // No recorded shape before: nothing to compare with, whatever this node's catalog says (every node decides alike).
    feed(ddl(41, "alter", ORDERS, null, definition("orders", true, "id", "name", "qty", "more")));
    Transaction tx = commit(0xB000);
    assertThat(tx.events()).extracting(e -> ((DdlEvent) e).type() + " " + e.tableId()).containsExactly("CREATE_TABLE " + CREATED);
    assertThat(tx.definitions()).filteredOn(d -> d.oid() == ORDERS).singleElement()
        .satisfies(d -> assertThat(d.table().columns()).extracting(ColumnSchema::name).contains("more"));
  }

  @Test
  void aRenamedColumnIsNeitherAddedNorDropped() {
    feed(PgOutputBytes.begin(0xC000, 5, 1));
    feed(ddl(50, "alter", ORDERS, definition("orders", true, "id", "name", "qty"), definition("orders", true, "id", "renamed_name", "qty")));
    Transaction tx = commit(0xC000);
    assertThat(tx.events()).isEmpty();
    assertThat(tx.definitions()).singleElement().satisfies(d -> {
      assertThat(d.position()).isEqualTo(0xC000);
      assertThat(d.table().columns()).extracting(ColumnSchema::name).containsExactly("id", "renamed_name", "qty");
    });
  }

  @Test
  void aDroppedTableIsADropTableThatEndsItsRowsAndItsRowsAfterwardsAreNotCaptured() {
    feed(PgOutputBytes.begin(0x8000, 5, 1));
    feed(relation(ORDERS, "id", "name", "qty"));
    feed(message('I').i32((int) ORDERS).b('N').tuple("1", "a", "3").buffer());
    feed(ddl(30, "drop", ORDERS, definition("orders", true, "id", "name", "qty"), new JsonObject().put("schema", "public").put("name", "orders")));
    Transaction tx = commit(0x8000);
    assertThat(tx.events()).singleElement().satisfies(e -> {
      assertThat(((DdlEvent) e).type()).isEqualTo(DdlEvent.Type.DROP_TABLE);
      assertThat(e.commitTs()).isEqualTo(0x8000 - 1);
    });
    assertThat(tx.definitions()).singleElement().satisfies(d -> assertThat(d.table()).isNull());
  }

  @Test
  void aTableDroppedSinceTheStreamsStartIsKnownFromItsRelationMessage() {
    // Resuming from before its DROP: the catalog no longer has it, the rules capture it, its key is the marked column.
    feed(PgOutputBytes.begin(0x9000, 5, 1));
    feed(namedRelation(CREATED, "created_gone", "id", "v"));
    feed(message('I').i32((int) CREATED).b('N').tuple("5", "x").buffer());
    RowChange row = (RowChange) commit(0x9000).events().get(0);
    assertThat(row.tableId()).isEqualTo(CREATED);
    assertThat(row.key()).isEqualTo(KeyEncoding.encode(List.of(PgTypes.INT8), List.of("5")));
  }

  @Test
  void aTableKnownOnlyFromARelationMessageWithoutAKeyIsNotCaptured() {
    feed(PgOutputBytes.begin(0x9100, 5, 1));
    feed(message('R').i32((int) CREATED).str("public").str("created_keyless").b('d').i16(1).b(0).str("v").i32(25).i32(-1).buffer());
    feed(message('I').i32((int) CREATED).b('N').tuple("x").buffer());
    assertThat(commit(0x9100).events()).isEmpty();
  }

  @Test
  void aSchemaChangeMessageThatIsNotOneIsRefused() {
    feed(PgOutputBytes.begin(0xA000, 5, 1));
    assertThatThrownBy(() -> feed(ddlMessage("{not json"))).isInstanceOf(MalformedMessageException.class).hasMessageContaining("not JSON");
    assertThatThrownBy(() -> feed(ddlMessage("{\"id\": 1}"))).isInstanceOf(MalformedMessageException.class);
  }

  @Test
  void outOfOrderMessagesAreRefused() {
    assertThatThrownBy(() -> feed(PgOutputBytes.commit(0x10, 1))).isInstanceOf(MalformedMessageException.class).hasMessageContaining("outside");
    feed(relation(ORDERS, "id", "name", "qty"));
    assertThatThrownBy(() -> feed(message('I').i32((int) ORDERS).b('N').tuple("1", "a", "1").buffer())).isInstanceOf(MalformedMessageException.class);
    feed(PgOutputBytes.begin(0x10, 1, 1));
    assertThatThrownBy(() -> feed(PgOutputBytes.begin(0x20, 1, 2))).isInstanceOf(MalformedMessageException.class).hasMessageContaining("inside");
    assertThatThrownBy(() -> feed(message('I').i32((int) ORDERS).b('N').tuple("1", "a").buffer())).isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("2 values for 3 columns");
  }

  /** The message the upstream's DDL trigger writes (see capture-ddl.sql): key column "id" bigint, others text. */
  private static ByteBuffer ddl(long id, String kind, long oid, JsonObject before, JsonObject after) {
    return ddlMessage(new JsonObject().put("id", id).put("kind", kind).put("oid", oid).put("table", after).put("before", before).encode());
  }

  /** A table as feedline_capture.table_definition gives it: key column "id" bigint, others text. */
  private static JsonObject definition(String name, boolean keyed, String... columns) {
    JsonArray cols = new JsonArray();
    for (String c : columns) {
      // A column's number: its name's place in COLUMN_NUMBERS, so that a renamed column can keep its number.
      int number = COLUMN_NUMBERS.indexOf(c.replace("renamed_", "")) + 1;
      cols.add(new JsonObject().put("name", c).put("type", c.equals("id") ? "bigint" : "text").put("typeOid", c.equals("id") ? PgTypes.INT8 : 25)
          .put("notNull", c.equals("id")).put("number", number));
    }
    return new JsonObject().put("schema", "public").put("name", name).put("keyed", keyed)
        .put("key", keyed ? new JsonArray().add("id") : new JsonArray()).put("columns", cols);
  }

  private static ByteBuffer ddlMessage(String content) {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    PgOutputBytes m = message('M').b(1).i64(0x100).str(DdlCapture.MESSAGE_PREFIX).i32(bytes.length);
    for (byte b : bytes) {
      m.b(b);
    }
    return m.buffer();
  }

  private static ByteBuffer relation(long oid, String... columns) {
    return namedRelation(oid, oid == ORDERS ? "orders" : "other", columns);
  }

  private static ByteBuffer namedRelation(long oid, String name, String... columns) {
    PgOutputBytes m = message('R').i32((int) oid).str("public").str(name).b('d').i16(columns.length);
    for (String c : columns) {
      int type = switch (c) {
        case "id" -> PgTypes.INT8;
        case "qty" -> PgTypes.INT4;
        default -> 25;
      };
      m.b(c.equals("id") ? 1 : 0).str(c).i32(type).i32(-1);
    }
    return m.buffer();
  }

  private Transaction feed(ByteBuffer bytes) {
    return assembler.accept(PgOutputDecoder.decode(bytes));
  }

  private Transaction commit(long lsn) {
    Transaction tx = feed(PgOutputBytes.commit(lsn, 5));
    assertThat(tx).isNotNull();
    return tx;
  }
}
