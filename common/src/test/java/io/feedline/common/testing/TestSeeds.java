package io.feedline.common.testing;

/**
 * Seeds for randomized tests: fixed by default so CI is reproducible, overridable with
 * {@code -Dfeedline.seed=N} to replay a failure or {@code -Dfeedline.seed=random} to explore.
 */
public final class TestSeeds {

  private TestSeeds() {}

  public static long seed(long defaultSeed) {
    String configured = System.getProperty("feedline.seed");
    if (configured == null || configured.isBlank()) {
      return defaultSeed;
    }
    return configured.equals("random") ? System.nanoTime() : Long.parseLong(configured);
  }

  /** The text a failure message carries so the run can be replayed. */
  public static String replay(long seed, Class<?> testClass) {
    return "seed=" + seed + " (replay: scripts/test.sh -DskipITs -Dfeedline.seed=" + seed + " -Dtest=" + testClass.getSimpleName() + ")";
  }
}
