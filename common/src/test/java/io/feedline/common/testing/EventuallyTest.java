package io.feedline.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class EventuallyTest {

  @Test
  void untilCompletesWithTheFirstValueThatHolds(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger probes = new AtomicInteger();
    Eventually.until(vertx, "the third probe", probes::incrementAndGet, n -> n >= 3)
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
          assertThat(n).isEqualTo(3);
          assertThat(probes).hasValue(3);
          ctx.completeNow();
        })));
  }

  @Test
  void aThrowingProbeFailsTheWait(Vertx vertx, VertxTestContext ctx) {
    Eventually.until(vertx, "never", () -> {
      throw new AssertionError("seen something wrong");
    }).onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(err).hasMessage("seen something wrong");
      ctx.completeNow();
    })));
  }

  @Test
  void holdsForFailsAsSoonAsTheInvariantBreaks(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger checks = new AtomicInteger();
    Eventually.holdsFor(vertx, Duration.ofSeconds(20), "fewer than three checks", () -> checks.incrementAndGet() < 3)
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(AssertionError.class).hasMessage("broken: fewer than three checks");
          assertThat(checks).hasValue(3);
          ctx.completeNow();
        })));
  }

  @Test
  void holdsForCompletesOnceTheInvariantHeldThroughout(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger checks = new AtomicInteger();
    Eventually.holdsFor(vertx, Duration.ofMillis(200), "always", () -> checks.incrementAndGet() > 0)
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(checks.get()).as("checked repeatedly, not once").isGreaterThan(1);
          ctx.completeNow();
        })));
  }
}
