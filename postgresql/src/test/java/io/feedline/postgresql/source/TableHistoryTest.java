package io.feedline.postgresql.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.dispatcher.schema.ColumnSchema;
import io.feedline.postgresql.source.DdlCapture.HistoryEntry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TableHistoryTest {

  private static final TableRules RULES = TableRules.parse("public.*,!public.audit_*");
  private static final UpstreamTable ITEMS = table(1, "items");
  private static final UpstreamTable LATER = table(2, "later");
  private static final UpstreamTable KEYED_LATER = table(4, "keyed_later");

  @Test
  void aTableWithoutHistoryIsAsTheCatalogHasItNow() {
    assertThat(names(Map.of(1L, ITEMS), List.of(), 5)).containsExactly("public.items");
  }

  @Test
  void aTableCreatedLaterExistsFromItsPositionOnAndNotWhileNoStreamHasReadItsCreate() {
    Map<Long, UpstreamTable> now = Map.of(1L, ITEMS, 2L, LATER);
    List<HistoryEntry> history = List.of(entry(1, 2, "create", "later", true, 100));
    assertThat(names(now, history, 99)).containsExactly("public.items");
    assertThat(names(now, history, 100)).containsExactly("public.items", "public.later");
    assertThat(names(now, List.of(entry(1, 2, "create", "later", true, -1)), 1_000)).containsExactly("public.items");
  }

  @Test
  void aTableDroppedSinceExistedBeforeItsDropUnderItsName() {
    List<HistoryEntry> history = List.of(entry(1, 3, "exists", "gone", true, 0), entry(2, 3, "drop", "gone", false, 200));
    assertThat(names(Map.of(1L, ITEMS), history, 199)).containsExactly("public.items", "public.gone");
    assertThat(names(Map.of(1L, ITEMS), history, 200)).containsExactly("public.items");
    // Older than the history (dropped before anything recorded it): taken as captured before its drop.
    assertThat(names(Map.of(), List.of(entry(7, 3, "drop", "gone", false, 300)), 299)).containsExactly("public.gone");
  }

  @Test
  void aTableIsCapturedOnlyWhileItHasAKeyAndTheRulesTakeItsName() {
    List<HistoryEntry> history = List.of(entry(1, 4, "create", "keyed_later", false, 100), entry(2, 4, "alter", "keyed_later", true, 150),
        entry(3, 5, "create", "audit_log", true, 120));
    Map<Long, UpstreamTable> now = Map.of(4L, KEYED_LATER);
    assertThat(names(now, history, 149)).isEmpty();
    assertThat(names(now, history, 150)).containsExactly("public.keyed_later");
  }

  private static List<String> names(Map<Long, UpstreamTable> now, List<HistoryEntry> history, long position) {
    return TableHistory.tablesAt(now, history, RULES, position).stream().map(TableHistory.Table::qualifiedName).toList();
  }

  private static HistoryEntry entry(long id, long oid, String kind, String name, boolean keyed, long position) {
    return new HistoryEntry(id, oid, kind, "public", name, keyed, position);
  }

  private static UpstreamTable table(long oid, String name) {
    return new UpstreamTable(oid, "public", name, List.of(new ColumnSchema("id", "bigint", false)), List.of(PgTypes.INT8), List.of("id"));
  }
}
