package io.feedline.node;

import picocli.CommandLine.Command;

/**
 * {@code feedline simulate …}: runs the deterministic simulator of the simulation module from {@code feedline-sim.jar}.
 * The simulator and the test kit are not a node's dependencies, so they are not in this jar.
 */
@Command(name = "simulate", description = "Run seeds of the deterministic simulation (`simulate --help` lists its options). Needs "
    + "feedline-sim.jar, built by `mvn package` beside this jar or in simulation/target; $FEEDLINE_SIM_JAR names another.")
public final class SimulateLauncher extends CompanionLauncher {

  public SimulateLauncher() {
    super(CompanionJar.SIMULATION);
  }
}
