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

  /** Ownership changes the seed saw happen: new maintainer epochs of a changefeed, and span writers taking over from others. */
  long maintainerHandoffs;
  long spanHandoffs;
  /** DDLs the downstreams applied. */
  long ddls;

  long faultCount() {
    return faults.values().stream().mapToLong(Long::longValue).sum();
  }
}
