package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What a role logs as an error while a seed runs is that seed's violation; warnings are not. */
class ErrorsAsViolationsTest {

  @Test
  void anErrorLoggedDuringASeedIsItsViolation() {
    Simulator.quietLogs();
    List<String> errors = new ArrayList<>();
    Simulator.ERRORS.set(errors::add);
    try {
      LoggerFactory.getLogger("io.feedline.coordinator.Coordinator").error("event=coordinator_effects_failed election_version={}", 7,
          new IllegalStateException("boom"));
      LoggerFactory.getLogger("io.feedline.coordinator.Coordinator").warn("event=campaign_failed");
    } finally {
      Simulator.ERRORS.remove();
    }
    assertThat(errors).containsExactly(
        "io.feedline.coordinator.Coordinator: event=coordinator_effects_failed election_version=7 (java.lang.IllegalStateException: boom)");
  }
}
