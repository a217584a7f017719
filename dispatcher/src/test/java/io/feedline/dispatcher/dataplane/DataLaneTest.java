package io.feedline.dispatcher.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLaneTest {

  private final ManualScheduler scheduler = new ManualScheduler(0);
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final List<String> ran = new ArrayList<>();
  private final List<MemoryQuota.Reservation> held = new ArrayList<>();

  private DataPlane plane(long quota) {
    return DataPlane.onScheduler(scheduler, quota, metrics);
  }

  /** Room for four full turns of one changefeed. */
  private static final long FOUR_TURNS = 4 * DataLane.MAX_TURN_BYTES;

  /** One changefeed on {@code plane}, with {@code spans} turns queued ({@code <prefix>0}, ...). */
  private DataLane.Tenant changefeedWith(DataPlane plane, int spans, String prefix) {
    DataLane.Tenant tenant = plane.join(ChangefeedId.of("cf"));
    for (int i = 0; i < spans; i++) {
      queue(tenant, prefix + i);
    }
    return tenant;
  }

  /** A turn that records itself and keeps its memory, as a dispatcher does until the sink acknowledges. */
  private void queue(DataLane.Tenant tenant, String name) {
    tenant.turn(r -> {
      ran.add(name);
      held.add(r);
    }, true);
  }

  @Test
  void turnsGoRoundTheChangefeedsSoATrickleIsNotQueuedBehindAFirehose() {
    DataPlane plane = plane(1L << 30);
    DataLane.Tenant firehose = plane.join(ChangefeedId.of("firehose"));
    DataLane.Tenant trickle = plane.join(ChangefeedId.of("trickle"));
    for (int i = 0; i < 1_000; i++) {
      queue(firehose, "f" + i);
    }
    queue(trickle, "t0");
    queue(trickle, "t1");
    scheduler.runDue();
    assertThat(ran).hasSize(1_002);
    assertThat(ran.subList(0, 4)).containsExactly("f0", "t0", "f1", "t1");
    assertThat(ran.subList(4, 8)).as("the spans of one changefeed in the order they asked").containsExactly("f2", "f3", "f4", "f5");
  }

  @Test
  void aContextTaskRunsABoundedNumberOfTurnsThenYields() {
    changefeedWith(plane(1L << 30), DataLane.MAX_TURNS_PER_TASK * 3, "s");
    List<Integer> between = new ArrayList<>();
    // A task queued now (a timer, a sink completion) runs between two slices of turns, not after all of them.
    scheduler.schedule(0, () -> scheduler.schedule(0, () -> between.add(ran.size())));
    scheduler.runDue();
    assertThat(ran).hasSize(DataLane.MAX_TURNS_PER_TASK * 3);
    assertThat(between).singleElement().satisfies(n -> assertThat(n).isLessThan(DataLane.MAX_TURNS_PER_TASK * 3));
  }

  @Test
  void aChangefeedWithoutMemorySitsOutUntilARelease() {
    DataPlane plane = plane(FOUR_TURNS);
    changefeedWith(plane, 10, "s");
    scheduler.runDue();
    assertThat(ran).as("a turn reserves a quarter of the share: four fit").hasSize(4);
    assertThat(plane.quota().used()).isEqualTo(4 * DataLane.MAX_TURN_BYTES);
    assertThat(metrics.find("feedline.dataplane.memory.waits").counter().count()).isEqualTo(1);

    held.remove(0).release();
    scheduler.runDue();
    assertThat(ran).as("woken by the release, one more fits").hasSize(5);
    held.forEach(MemoryQuota.Reservation::release);
    held.clear();
    scheduler.runDue();
    assertThat(ran).hasSize(9);
  }

  @Test
  void theTableTriggersTurnNeverWaitsForMemoryTheBlockedSpansHold() {
    DataPlane plane = plane(FOUR_TURNS);
    DataLane.Tenant tenant = changefeedWith(plane, 5, "span");
    tenant.turn(r -> {
      ran.add("trigger");
      r.settle(100);
      held.add(r);
    }, false);
    scheduler.runDue();
    assertThat(ran).as("the trigger first, then the spans until the share is full").containsExactly("trigger", "span0", "span1", "span2");
    assertThat(plane.quota().used()).as("what the trigger read is counted").isEqualTo(3 * DataLane.MAX_TURN_BYTES + 100);

    tenant.turn(r -> ran.add("trigger again"), false);
    scheduler.runDue();
    assertThat(ran).as("the changefeed sits out for memory, its trigger does not").endsWith("span2", "trigger again");
    held.remove(1).release();
    scheduler.runDue();
    assertThat(ran).endsWith("trigger again", "span3");
  }

  @Test
  void whenBlockedSpansHoldTheWholeShareTheSpanTheBarrierWaitsForStillReads() {
    DataPlane plane = plane(FOUR_TURNS);
    changefeedWith(plane, 6, "span");
    scheduler.runDue();
    assertThat(ran).hasSize(4);
    // Three of them block at later DDLs and keep their batches: one reader still holds unblocked memory.
    held.subList(0, 3).forEach(MemoryQuota.Reservation::block);
    scheduler.runDue();
    assertThat(ran).as("a release may still come: the changefeed waits").hasSize(4);
    held.get(3).block();
    scheduler.runDue();
    assertThat(ran).as("only blocked spans hold memory: one more span reads, past the share").hasSize(5);
    scheduler.runDue();
    assertThat(ran).as("one at a time: the forced read is not blocked").hasSize(5);
    held.get(4).release();
    scheduler.runDue();
    assertThat(ran).hasSize(6);
    assertThat(plane.quota().used()).isEqualTo(5 * DataLane.MAX_TURN_BYTES);
  }

  @Test
  void aNewChangefeedJoinsTheLeastBusyLaneAndLeavingDropsItsTurnsAndMeters() {
    DataPlane plane = plane(1L << 30);
    DataLane.Tenant tenant = plane.join(ChangefeedId.of("cf"));
    queue(tenant, "s0");
    tenant.close();
    scheduler.runDue();
    assertThat(ran).isEmpty();
    assertThat(metrics.find("feedline.sink.events").tag("changefeed", "cf").counter()).isNull();
    assertThat(plane.lanes().get(0).tenantCount()).isZero();
  }
}
