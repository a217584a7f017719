package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.TableInfo;
import java.util.Comparator;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The reply to the bootstrap naming the table trigger lists the upstream's tables where the trigger
 * resumes (the new maintainer's span set); a plain snapshot request lists none.
 */
class TablesAtStartTest {

  private static final NodeId OWNER = NodeId.of("owner");

  private final OrchestratorFixture f = new OrchestratorFixture();

  @Test
  void onlyTheReplyToTheRequestNamingTheTriggerListsTheTablesAtItsCheckpoint() {
    f.deliver(OWNER, Requests.bootstrap("cf1", 5));
    MaintainerBootstrapResponse plain = f.outbox.last(MaintainerBootstrapResponse.class);
    assertThat(plain.getSchemasAtStartCount()).isZero();

    // Requests.SOURCE (4 tables at 1,000 ticks/s), resumed where most of its tables exist.
    DatagenModel model = new DatagenModel(7, 4, TickTimeline.forRate(1000));
    long startTick = LongStream.rangeClosed(1, 10_000).boxed()
        .max(Comparator.comparingInt((Long tick) -> tablesAt(model, tick).size())).orElseThrow();
    List<Long> expected = tablesAt(model, startTick);
    assertThat(expected).as("tables at tick %d", startTick).hasSizeGreaterThan(1);
    long startTs = model.timeline().commitTs(startTick);
    f.deliver(OWNER, Requests.bootstrap("cf1", 5, Requests.SINK, id(1), null).toBuilder().setStartTs(startTs).build());
    MaintainerBootstrapResponse withTrigger = f.outbox.last(MaintainerBootstrapResponse.class);
    assertThat(withTrigger.hasError()).isFalse();
    assertThat(withTrigger.getTriggerCheckpointTs()).isEqualTo(startTs);
    assertThat(withTrigger.getSchemasAtStartList()).singleElement()
        .satisfies(s -> assertThat(s.getTablesList()).extracting(TableInfo::getTableId).containsExactlyElementsOf(expected));
  }

  private static List<Long> tablesAt(DatagenModel model, long tick) {
    return LongStream.rangeClosed(1, model.tables()).filter(t -> model.existsAt(t, tick)).boxed().toList();
  }

  @Test
  void datagenTablesExistFromTheirCreateUpToButNotIncludingTheirDrop() {
    DatagenModel model = new DatagenModel(7, 4, TickTimeline.forRate(0));
    for (long table = 1; table <= 4; table++) {
      long create = 1;
      while (model.ddlAt(table, create) == null || model.ddlAt(table, create).type() != DdlEvent.Type.CREATE_TABLE) {
        create++;
      }
      long drop = create;
      while (model.ddlAt(table, drop) == null || model.ddlAt(table, drop).type() != DdlEvent.Type.DROP_TABLE) {
        drop++;
      }
      assertThat(model.existsAt(table, create - 1)).isFalse();
      assertThat(model.existsAt(table, create)).isTrue();
      assertThat(model.existsAt(table, drop - 1)).isTrue();
      assertThat(model.existsAt(table, drop)).as("table %d dropped at %d", table, drop).isFalse();
      long recreate = drop + 1;
      while (model.ddlAt(table, recreate) == null) {
        recreate++;
      }
      assertThat(model.existsAt(table, recreate - 1)).isFalse();
      assertThat(model.existsAt(table, recreate)).isTrue();
    }
    assertThat(model.existsAt(5, 10)).isFalse();
  }
}
