package io.feedline.dispatcher.orchestrator;

import static io.feedline.dispatcher.testing.Requests.id;
import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.dispatcher.endpoint.EndpointUri;
import io.feedline.dispatcher.event.DdlEvent;
import io.feedline.dispatcher.source.datagen.DatagenModel;
import io.feedline.dispatcher.source.datagen.DatagenSpec;
import io.feedline.dispatcher.source.datagen.TickTimeline;
import io.feedline.dispatcher.testing.Requests;
import io.feedline.proto.MaintainerBootstrapResponse;
import io.feedline.proto.TableInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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

    // Resumed just before and at the last of Requests.SOURCE's first CREATEs: all tables but one, then all.
    DatagenModel model = DatagenModel.of(DatagenSpec.parse(EndpointUri.parse("source", Requests.SOURCE)));
    long lastCreate = LongStream.rangeClosed(1, model.tables()).map(model::firstCreateTick).max().orElseThrow();
    List<List<Long>> listed = new ArrayList<>();
    for (long startTick : new long[] {lastCreate - 1, lastCreate}) {
      long startTs = model.timeline().commitTs(startTick);
      String changefeed = "cf-" + startTick;
      f.deliver(OWNER, Requests.bootstrap(changefeed, 5, Requests.SINK, id(1), null).toBuilder().setStartTs(startTs).build());
      MaintainerBootstrapResponse withTrigger = f.outbox.last(MaintainerBootstrapResponse.class);
      assertThat(withTrigger.hasError()).isFalse();
      assertThat(withTrigger.getTriggerCheckpointTs()).isEqualTo(startTs);
      List<Long> tables = withTrigger.getSchemasAtStartList().stream().flatMap(s -> s.getTablesList().stream()).map(TableInfo::getTableId).toList();
      assertThat(tables).as("tables at tick %d", startTick).containsExactlyElementsOf(createdAndNotDropped(model, startTick));
      listed.add(tables);
    }
    assertThat(listed.get(0)).hasSize(model.tables() - 1);
    assertThat(listed.get(1)).hasSize(model.tables());
  }

  /** The tables the DDL history up to {@code tick} leaves in place, replayed from tick 1 (not read from existsAt). */
  private static List<Long> createdAndNotDropped(DatagenModel model, long tick) {
    Set<Long> tables = new TreeSet<>();
    for (long t = 1; t <= tick; t++) {
      DdlEvent ddl = model.ddlAt(t);
      if (ddl != null && ddl.type() == DdlEvent.Type.CREATE_TABLE) {
        tables.add(ddl.tableId());
      } else if (ddl != null && ddl.type() == DdlEvent.Type.DROP_TABLE) {
        tables.remove(ddl.tableId());
      }
    }
    return List.copyOf(tables);
  }

  @Test
  void datagenTablesExistFromTheirCreateUpToButNotIncludingTheirDrop() {
    DatagenModel model = new DatagenModel(7, 4, TickTimeline.forRate(0));
    for (long table = 1; table <= 4; table++) {
      long create = model.firstCreateTick(table);
      assertThat(model.ddlAt(table, create).type()).isEqualTo(DdlEvent.Type.CREATE_TABLE);
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
