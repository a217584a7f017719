package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.simulation.ProtocolMutation;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proof the invariants can fail: each protocol mutation, the shape a real bug would take, violates the invariant that
 * guards against it within {@link #BOUND} seeds (the same seeds every run, so the bound is a fact, not a hope).
 */
class MutationsAreCaughtTest {

  /** Every mutation is caught within this many seeds from {@link #FIRST}; today it takes 1 to 24. */
  static final int BOUND = 60;
  static final long FIRST = 1;

  @BeforeAll
  static void quiet() {
    Simulator.quietLogs();
  }

  @AfterEach
  void repair() {
    ProtocolMutation.activate(Optional.empty());
  }

  @Test
  void aReceiverThatSkipsItsFenceLetsItsFenceGoBack() {
    assertCaught(ProtocolMutation.SKIP_RECEIVER_FENCE, "FENCE_MONOTONIC");
  }

  @Test
  void aMoveWithoutAnEpochBumpRunsOneEpochOnTwoNodes() {
    assertCaught(ProtocolMutation.SKIP_EPOCH_BUMP, "ONE_MAINTAINER_PER_EPOCH");
  }

  @Test
  void aCloseAcceptedFromALowerEpochClosesTheCurrentOwner() {
    assertCaught(ProtocolMutation.ACCEPT_STALE_CLOSE, "CLOSED_BY_NEWER");
  }

  @Test
  void aCheckpointTakenBeforeTheWriteIsDurablePassesAnUnwrittenEvent() {
    assertCaught(ProtocolMutation.EARLY_CHECKPOINT, "CHECKPOINT_DURABLE");
  }

  private static void assertCaught(ProtocolMutation mutation, String invariant) {
    ProtocolMutation.activate(Optional.of(mutation));
    for (long seed = FIRST; seed < FIRST + BOUND; seed++) {
      SeedResult result = Simulator.run(seed, Simulator.ALL_ACTIONS);
      if (!result.passed()) {
        assertThat(result.violations()).as("%s, seed %d: %s", mutation.cliName(), seed, result.summary())
            .anySatisfy(v -> assertThat(v).contains(invariant));
        System.out.printf("mutation %s caught by seed %d (%d seeds): %s%n", mutation.cliName(), seed, seed - FIRST + 1,
            result.violations().get(0));
        return;
      }
    }
    throw new AssertionError("mutation " + mutation.cliName() + " passed " + BOUND + " seeds from " + FIRST + ": the invariants are blind to it");
  }
}
