package io.feedline.common.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyedSerialExecutorTest {

  private final KeyedSerialExecutor<String> lanes = new KeyedSerialExecutor<>(1_000_000);
  private final List<String> log = new ArrayList<>();

  private Future<String> step(String key, String name, Promise<String> gate) {
    return lanes.submit(key, () -> {
      log.add("start " + name);
      return gate == null ? Future.succeededFuture(name) : gate.future();
    });
  }

  @Test
  void tasksOfOneKeyRunInOrderEachAfterThePreviousCompleted() {
    Promise<String> gate = Promise.promise();
    Future<String> first = step("a", "a1", gate);
    Future<String> second = step("a", "a2", null);
    assertThat(log).containsExactly("start a1");
    assertThat(second.isComplete()).isFalse();
    gate.complete("a1");
    assertThat(first.result()).isEqualTo("a1");
    assertThat(second.result()).isEqualTo("a2");
    assertThat(log).containsExactly("start a1", "start a2");
    assertThat(lanes.activeKeys()).isZero();
  }

  @Test
  void aStuckKeyNeverHoldsAnotherKey() {
    Promise<String> never = Promise.promise();
    step("slow", "s1", never);
    Future<String> waiting = step("slow", "s2", null);
    Future<String> other = step("fast", "f1", null);
    assertThat(other.result()).isEqualTo("f1");
    assertThat(waiting.isComplete()).isFalse();
    assertThat(lanes.pending("slow")).isEqualTo(2);
    assertThat(lanes.pending("fast")).isZero();
  }

  @Test
  void failingThrowingAndNullTasksReleaseTheirKey() {
    Future<String> failed = lanes.submit("k", () -> Future.failedFuture(new IllegalStateException("boom")));
    Future<String> thrown = lanes.submit("k", () -> {
      throw new IllegalArgumentException("bad input");
    });
    Future<String> nothing = lanes.submit("k", () -> null);
    Future<String> after = step("k", "after", null);
    assertThat(failed.cause()).hasMessage("boom");
    assertThat(thrown.cause()).hasMessage("bad input");
    assertThat(nothing.cause()).isInstanceOf(NullPointerException.class);
    assertThat(after.result()).isEqualTo("after");
    assertThat(lanes.activeKeys()).isZero();
  }

  @Test
  void aLongBacklogOfSynchronousTasksDoesNotGrowTheStack() {
    Promise<String> gate = Promise.promise();
    step("k", "gate", gate);
    List<Future<String>> queued = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) {
      queued.add(step("k", "t" + i, null));
    }
    gate.complete("gate");
    assertThat(queued).allMatch(Future::succeeded);
    assertThat(lanes.activeKeys()).isZero();
  }

  @Test
  void aFullLaneRefusesInsteadOfGrowingForever() {
    KeyedSerialExecutor<String> small = new KeyedSerialExecutor<>(2);
    Promise<String> never = Promise.promise();
    small.submit("k", never::future);
    small.submit("k", () -> Future.succeededFuture("1"));
    small.submit("k", () -> Future.succeededFuture("2"));
    assertThat(small.submit("k", () -> Future.succeededFuture("3")).cause()).isInstanceOf(KeyedSerialExecutor.LaneFullException.class);
    assertThat(small.submit("other", () -> Future.succeededFuture("o")).result()).isEqualTo("o");
  }
}
