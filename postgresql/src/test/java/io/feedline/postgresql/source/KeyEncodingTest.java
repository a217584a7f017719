package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyEncodingTest {

  private static final Comparator<ByteString> BYTES = ByteString.unsignedLexicographicalComparator();
  private static final int TEXT = 25;

  @Test
  void integersSortByValueNegativesFirst() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    List<Long> values = new ArrayList<>(List.of(Long.MIN_VALUE, -1L, 0L, 1L, 255L, 256L, Long.MAX_VALUE));
    for (int i = 0; i < 200; i++) {
      values.add(random.nextLong());
    }
    for (long a : values) {
      for (long b : values.subList(0, 20)) {
        assertThat(Integer.signum(BYTES.compare(key(PgTypes.INT8, a), key(PgTypes.INT8, b)))).as("seed %d: %d vs %d", seed, a, b)
            .isEqualTo(Long.signum(Long.compare(a, b)));
      }
    }
  }

  @Test
  void compositeKeysSortColumnByColumnWhateverTheTextLengths() {
    // ("a", 2) < ("a", 10) < ("ab", 1): a shorter text that is a prefix sorts first, then the next column decides.
    ByteString a2 = KeyEncoding.encode(List.of(TEXT, PgTypes.INT4), List.of("a", "2"));
    ByteString a10 = KeyEncoding.encode(List.of(TEXT, PgTypes.INT4), List.of("a", "10"));
    ByteString ab1 = KeyEncoding.encode(List.of(TEXT, PgTypes.INT4), List.of("ab", "1"));
    assertThat(BYTES.compare(a2, a10)).isNegative();
    assertThat(BYTES.compare(a10, ab1)).isNegative();
  }

  @Test
  void equalKeysEncodeEquallyAndDifferentOnesDifferently() {
    assertThat(KeyEncoding.encode(List.of(TEXT, TEXT), List.of("a", "bc"))).isEqualTo(KeyEncoding.encode(List.of(TEXT, TEXT), List.of("a", "bc")));
    assertThat(KeyEncoding.encode(List.of(TEXT, TEXT), List.of("a", "bc"))).isNotEqualTo(KeyEncoding.encode(List.of(TEXT, TEXT), List.of("ab", "c")));
    assertThat(KeyEncoding.encode(Arrays.asList(TEXT, TEXT), Arrays.asList(null, "x")))
        .isNotEqualTo(KeyEncoding.encode(List.of(TEXT, TEXT), List.of("", "x")));
    assertThat(KeyEncoding.encode(List.of(PgTypes.BOOL), List.of("f"))).isNotEqualTo(KeyEncoding.encode(List.of(PgTypes.BOOL), List.of("t")));
  }

  private static ByteString key(int type, long value) {
    return KeyEncoding.encode(List.of(type), List.of(Long.toString(value)));
  }
}
