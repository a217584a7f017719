package io.feedline.postgresql.source;

import static io.feedline.postgresql.source.PgOutputBytes.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedline.postgresql.source.PgOutputDecoder.MalformedMessageException;
import io.feedline.postgresql.source.PgOutputMessage.Column;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgOutputDecoderTest {

  @Test
  void beginAndCommit() {
    assertThat(PgOutputDecoder.decode(PgOutputBytes.begin(0x16B3748L, 123456789L, 777)))
        .isEqualTo(new PgOutputMessage.Begin(0x16B3748L, 123456789L, 777));
    assertThat(PgOutputDecoder.decode(PgOutputBytes.commit(0x16B3748L, 99L))).isEqualTo(new PgOutputMessage.Commit(0x16B3748L, 0x16B3748L + 40, 99L));
  }

  @Test
  void relationWithKeyFlagsAndTypes() {
    ByteBuffer bytes = message('R').i32(16384).str("app").str("orders").b('d').i16(3)
        .b(1).str("id").i32(20).i32(-1)
        .b(0).str("name").i32(1043).i32(28)
        .b(1).str("région").i32(25).i32(-1).buffer();
    assertThat(PgOutputDecoder.decode(bytes)).isEqualTo(new PgOutputMessage.Relation(16384L, "app", "orders", 'd', List.of(
        new Column("id", 20, -1, true), new Column("name", 1043, 28, false), new Column("région", 25, -1, true))));
  }

  @Test
  void insertCarriesTextNullAndUnchangedToast() {
    PgOutputMessage.Insert insert = (PgOutputMessage.Insert) PgOutputDecoder.decode(
        message('I').i32(16384).b('N').tuple("42", null, "héllo", PgOutputBytes.UNCHANGED).buffer());
    assertThat(insert.relation()).isEqualTo(16384L);
    assertThat(insert.after().values()).containsExactly("42", null, "héllo", null);
    assertThat(insert.after().kinds()).containsExactly('t', 'n', 't', 'u');
    assertThat(insert.after().isUnchangedToast(3)).isTrue();
  }

  @Test
  void updateWithAndWithoutOldTuple() {
    PgOutputMessage.Update plain = (PgOutputMessage.Update) PgOutputDecoder.decode(message('U').i32(5).b('N').tuple("1", "a").buffer());
    assertThat(plain.before()).isNull();
    assertThat(plain.after().values()).containsExactly("1", "a");
    PgOutputMessage.Update keyed = (PgOutputMessage.Update) PgOutputDecoder.decode(
        message('U').i32(5).b('K').tuple("1", null).b('N').tuple("2", "a").buffer());
    assertThat(keyed.before().values()).containsExactly("1", null);
    assertThat(keyed.after().values()).containsExactly("2", "a");
    PgOutputMessage.Update full = (PgOutputMessage.Update) PgOutputDecoder.decode(
        message('U').i32(5).b('O').tuple("1", "old").b('N').tuple("1", "new").buffer());
    assertThat(full.before().values()).containsExactly("1", "old");
  }

  @Test
  void deleteTruncateMessageOriginAndType() {
    PgOutputMessage.Delete delete = (PgOutputMessage.Delete) PgOutputDecoder.decode(message('D').i32(5).b('K').tuple("9", null).buffer());
    assertThat(delete.before().values()).containsExactly("9", null);
    assertThat(PgOutputDecoder.decode(message('T').i32(2).b(3).i32(5).i32(-2).buffer()))
        .as("OIDs are unsigned").isEqualTo(new PgOutputMessage.Truncate(List.of(5L, 4294967294L), true, true));
    PgOutputMessage.Message m = (PgOutputMessage.Message) PgOutputDecoder.decode(
        message('M').b(0).i64(0x500L).str("feedline-heartbeat").i32(3).b('1').b('2').b('3').buffer());
    assertThat(m.transactional()).isFalse();
    assertThat(m.lsn()).isEqualTo(0x500L);
    assertThat(m.prefix()).isEqualTo("feedline-heartbeat");
    assertThat(new String(m.content(), StandardCharsets.US_ASCII)).isEqualTo("123");
    assertThat(PgOutputDecoder.decode(message('O').i64(7).str("upstream").buffer())).isEqualTo(new PgOutputMessage.Origin(7, "upstream"));
    assertThat(PgOutputDecoder.decode(message('Y').i32(90000).str("public").str("mood").buffer()))
        .isEqualTo(new PgOutputMessage.Type(90000L, "public", "mood"));
  }

  @Test
  void garbageIsRefusedWithTheReason() {
    assertThatThrownBy(() -> PgOutputDecoder.decode(ByteBuffer.allocate(0))).isInstanceOf(MalformedMessageException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> PgOutputDecoder.decode(message('Z').buffer())).isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("unknown pgoutput message kind 'Z'");
    assertThatThrownBy(() -> PgOutputDecoder.decode(message('B').i64(1).buffer())).isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("ends early");
    // A string with no terminating NUL.
    assertThatThrownBy(() -> PgOutputDecoder.decode(message('O').i64(7).b('x').buffer())).isInstanceOf(MalformedMessageException.class);
    assertThatThrownBy(() -> PgOutputDecoder.decode(message('I').i32(5).b('X').buffer())).isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("INSERT carries 'X'");
    assertThatThrownBy(() -> PgOutputDecoder.decode(message('I').i32(5).b('N').i16(1).b('b').i32(1).b(1).buffer()))
        .isInstanceOf(MalformedMessageException.class).hasMessageContaining("binary");
    byte[] truncatedText = Arrays.copyOf(message('I').i32(5).b('N').tuple("long value").buffer().array(), 14);
    assertThatThrownBy(() -> PgOutputDecoder.decode(ByteBuffer.wrap(truncatedText))).isInstanceOf(MalformedMessageException.class);
  }
}
