package io.feedline.simulation;

import java.util.List;

/**
 * What one seed did: the fingerprint of its exact history, the invariants it violated (none when it passed), what it
 * exercised, and for a failure the last events before it.
 *
 * @param actions how many actions of the seed's plan ran (all of them, unless a replay cut the plan short)
 * @param convergedAfterMillis how long after the faults stopped every changefeed had caught up (0 if it did not)
 * @param simulatedMillis how much simulated time the seed took
 */
record SeedResult(long seed, int actions, long historyHash, List<String> violations, Stats stats, long writes, long convergedAfterMillis,
    long simulatedMillis, List<String> tail) {

  boolean passed() {
    return violations.isEmpty();
  }

  /** The name of the invariant the seed violated first ({@code ONE_WRITER}…); empty when it passed. */
  String invariant() {
    return violations.isEmpty() ? "" : violations.get(0).replaceFirst("^at \\d+ ms: ([A-Z_]+):.*", "$1");
  }

  /** One line: what the seed exercised. */
  String summary() {
    return String.format("seed %d: %s, history %016x, %d steps, %d messages, %d writes, %d DDLs, %d maintainer and %d span handoffs, "
        + "faults %s, actions %s, converged %s", seed, passed() ? "ok" : "VIOLATED", historyHash, stats.steps, stats.messages, writes,
        stats.ddls, stats.maintainerHandoffs, stats.spanHandoffs, stats.faults, stats.actions,
        convergedAfterMillis > 0 ? convergedAfterMillis + " ms after the heal" : "no");
  }
}
