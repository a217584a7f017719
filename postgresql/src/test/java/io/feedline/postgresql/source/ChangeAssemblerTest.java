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
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeAssemblerTest {

  private static final long ORDERS = 16384;
  private static final long OTHER = 16390;
  private static final UpstreamTable ORDERS_TABLE = new UpstreamTable(ORDERS, "public", "orders",
      List.of(new ColumnSchema("id", "bigint", false), new ColumnSchema("name", "text", true), new ColumnSchema("qty", "integer", true)),
      List.of(PgTypes.INT8, 25, PgTypes.INT4), List.of("id"));

  private final ChangeAssembler assembler = new ChangeAssembler(oid -> oid == ORDERS ? ORDERS_TABLE : null, (t, m) -> "type" + t);

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
  void aRelationMessageReshapesTheTable() {
    feed(relation(ORDERS, "id", "name", "qty", "extra"));
    assertThat(assembler.tablesChanged()).singleElement().satisfies(t -> {
      assertThat(t.columns()).extracting(ColumnSchema::name).containsExactly("id", "name", "qty", "extra");
      assertThat(t.columns().get(1).type()).isEqualTo("text");
      assertThat(t.columns().get(3).type()).isEqualTo("type25");
    });
    assertThat(assembler.tablesChanged()).isEmpty();
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

  private static ByteBuffer relation(long oid, String... columns) {
    PgOutputBytes m = message('R').i32((int) oid).str("public").str(oid == ORDERS ? "orders" : "other").b('d').i16(columns.length);
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
