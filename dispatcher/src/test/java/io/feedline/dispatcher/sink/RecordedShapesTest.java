package io.feedline.dispatcher.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.proto.TableSpan;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordedShapesTest {

  private static final ByteString M = ByteString.copyFromUtf8("m");
  private static final TableSpan WHOLE = TableSpan.newBuilder().setTableId(1).build();
  private static final TableSpan LOW = TableSpan.newBuilder().setTableId(1).setEndKey(M).build();
  private static final TableSpan HIGH = TableSpan.newBuilder().setTableId(1).setStartKey(M).build();
  private static final TableSpan TRIGGER = TableSpan.newBuilder().setTableId(0).build();

  private static RecordedShapes.Shape shape(TableSpan span, long checkpoint) {
    return new RecordedShapes.Shape(span.getStartKey(), span.getEndKey(), checkpoint);
  }

  @Test
  void aShapeOfItsOwnIsAppliedThroughItsCheckpoint() {
    assertThat(RecordedShapes.appliedThrough(LOW, List.of(shape(WHOLE, 50), shape(LOW, 30)))).isEqualTo(30);
  }

  @Test
  void aNewShapeCoveredByOthersIsAppliedThroughTheLowestOfThem() {
    assertThat(RecordedShapes.appliedThrough(WHOLE, List.of(shape(HIGH, 40), shape(LOW, 70)))).isEqualTo(40);
    assertThat(RecordedShapes.appliedThrough(LOW, List.of(shape(WHOLE, 90)))).as("a part of a split").isEqualTo(90);
  }

  @Test
  void aRangeNoShapeCoversIsNotAppliedAtAll() {
    assertThat(RecordedShapes.appliedThrough(WHOLE, List.of(shape(HIGH, 40)))).isEqualTo(-1);
    assertThat(RecordedShapes.appliedThrough(WHOLE, List.of())).isEqualTo(-1);
  }

  @Test
  void aTableSpanSkipsEverythingBelowItsTablesLastTruncateOrDropButTheTriggerDoesNot() {
    List<RecordedShapes.Shape> parts = List.of(shape(HIGH, 40), shape(LOW, 70));
    assertThat(RecordedShapes.skipThrough(WHOLE, parts, 60)).as("the truncate at 60 wiped what lies below").isEqualTo(60);
    assertThat(RecordedShapes.skipThrough(WHOLE, parts, 20)).as("an older truncate changes nothing").isEqualTo(40);
    assertThat(RecordedShapes.skipThrough(WHOLE, parts, -1)).isEqualTo(40);
    assertThat(RecordedShapes.skipThrough(TRIGGER, List.of(shape(TRIGGER, 10)), 60)).as("the trigger writes the DDLs themselves").isEqualTo(10);
  }

  @Test
  void onlyTruncateAndDropClearATable() {
    for (DdlEvent.Type type : DdlEvent.Type.values()) {
      DdlEvent ddl = new DdlEvent(1, 5, type, "t1", "", type == DdlEvent.Type.ADD_COLUMN || type == DdlEvent.Type.DROP_COLUMN ? "c" : null);
      assertThat(RecordedShapes.clears(ddl)).as(type.name())
          .isEqualTo(type == DdlEvent.Type.TRUNCATE_TABLE || type == DdlEvent.Type.DROP_TABLE);
    }
  }
}
