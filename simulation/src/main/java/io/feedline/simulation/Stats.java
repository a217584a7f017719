package io.feedline.simulation;

import java.util.Map;
import java.util.TreeMap;

/** What one seed exercised: faults by kind, workload actions by kind, messages and writes. */
final class Stats {

  /** Faults injected, by kind (message drop, node crash, partition…). */
  final Map<String, Long> faults = new TreeMap<>();
  /** Workload actions that took effect, by kind (create, move, split…). */
  final Map<String, Long> actions = new TreeMap<>();
  long messages;
  long delivered;
  long partitionDrops;
  long steps;

  void count(String fault) {
    faults.merge(fault, 1L, Long::sum);
  }

  void action(String kind) {
    actions.merge(kind, 1L, Long::sum);
  }

  /** Ownership changes the seed exercised: maintainer moves, span moves, splits and merges that started. */
  long moves() {
    return actions.getOrDefault("move-maintainer", 0L) + actions.getOrDefault("move-span", 0L) + actions.getOrDefault("split", 0L)
        + actions.getOrDefault("merge", 0L) + actions.getOrDefault("drain", 0L);
  }

  long faultCount() {
    return faults.values().stream().mapToLong(Long::longValue).sum();
  }
}
