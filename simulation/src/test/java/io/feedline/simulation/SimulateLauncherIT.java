package io.feedline.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.testkit.FeedlineRun;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code java -jar feedline.jar simulate …} as a user runs it: the node's jar has no simulator in it and starts it
 * from {@code feedline-sim.jar} (this module's shaded jar) in a JVM of its own, which parses everything after
 * {@code simulate}.
 */
class SimulateLauncherIT {

  @Test
  void helpListsTheSimulatorsOptions() throws Exception {
    FeedlineRun help = FeedlineRun.of("simulate", "--help");
    assertThat(help.exit()).as(help.out()).isZero();
    assertThat(help.out()).contains("--seeds", "--seed", "--mutation");
  }

  @Test
  void aNegativeSeedCountIsAUsageErrorOfTheChild() throws Exception {
    FeedlineRun negative = FeedlineRun.of("simulate", "--seeds", "-1");
    assertThat(negative.exit()).as(negative.out()).isEqualTo(2);
    assertThat(negative.out()).contains("--seeds");
  }

  @Test
  void aMissingSimJarSaysWhereItLookedAndHowToBuildIt() throws Exception {
    FeedlineRun missing = FeedlineRun.of(Map.of("FEEDLINE_SIM_JAR", "/nonexistent/feedline-sim.jar"), List.of(), "simulate", "--seeds", "3");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.out()).contains("feedline-sim.jar not found", "/nonexistent/feedline-sim.jar", "mvn -B -ntp -DskipTests package",
        "FEEDLINE_SIM_JAR");
  }

  @Test
  void seedsRunAndTheLastLineSumsThemUp() throws Exception {
    FeedlineRun run = FeedlineRun.of("simulate", "--seeds", "3");
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out().strip().lines().reduce((first, second) -> second)).as(run.out()).hasValueSatisfying(
        last -> assertThat(last).matches("simulate: \\d+ seeds, \\d+ violations, [0-9.]+ seeds/s"));
  }

  @Test
  void aSeedReplaysTheSameHistoryInAnotherJvm() throws Exception {
    FeedlineRun once = FeedlineRun.of("simulate", "--seed", "42");
    FeedlineRun again = FeedlineRun.of("simulate", "--seed", "42");
    assertThat(once.exit()).as(once.out()).isZero();
    String hash = once.out().lines().filter(l -> l.startsWith("seed 42:")).findFirst().orElseThrow()
        .replaceAll(".*history ([0-9a-f]{16}).*", "$1");
    assertThat(again.out()).as("the second JVM's run of seed 42").contains("history " + hash);
  }

  @ParameterizedTest(name = "--mutation {0}")
  @ValueSource(strings = {"skip-receiver-fence", "skip-epoch-bump", "accept-stale-close", "early-checkpoint"})
  void aMutationIsCaughtAndTheRunExitsOneWithTheCommandThatReplaysIt(String mutation) throws Exception {
    FeedlineRun run = FeedlineRun.of("simulate", "--mutation", mutation, "--seeds", "1000", "--from", "1");
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.out()).contains("VIOLATION", "shortest failing prefix", "replay: java -jar node-runtime/target/feedline.jar simulate --seed ",
        "--mutation " + mutation);
    assertThat(run.out().strip().lines().reduce((first, second) -> second)).hasValueSatisfying(
        last -> assertThat(last).matches("simulate: \\d+ seeds, 1 violations, [0-9.]+ seeds/s"));
  }

  @Test
  void anUnknownMutationIsAUsageError() throws Exception {
    FeedlineRun run = FeedlineRun.of("simulate", "--mutation", "no-such-bug");
    assertThat(run.exit()).as(run.out()).isEqualTo(2);
    assertThat(run.out()).contains("unknown --mutation 'no-such-bug'", "skip-receiver-fence", "early-checkpoint");
  }
}
