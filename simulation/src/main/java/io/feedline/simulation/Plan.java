package io.feedline.simulation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A seed's schedule of workload and faults, drawn from the seed alone before the run starts: when each action happens,
 * what it is, a number that picks its target among what exists when it runs, and how long a fault lasts. A plan cut
 * after its first {@code limit} actions is a prefix of the full one, which is what shrinking a failure tries.
 */
record Plan(List<Action> actions) {

  enum Kind {
    CREATE(2), PAUSE(1), RESUME(2), REMOVE(0.5), MOVE_MAINTAINER(2), DRAIN(0.5), SPLIT(2), MERGE(1.5), MOVE_SPAN(2),
    CRASH(1), KILL_COORDINATOR(1), PARTITION(1.5), STORE_DISCONNECT(1), STORE_DOWN(0.5), RESIGN(0.5);

    final double weight;

    Kind(double weight) {
      this.weight = weight;
    }
  }

  /** @param duration how long a fault lasts (crash to restart, partition to heal…), in ms */
  record Action(long atMillis, Kind kind, long pick, long duration) {
    @Override
    public String toString() {
      return kind + "#" + Long.toHexString(pick & 0xffff) + (duration > 0 ? " for " + duration + " ms" : "");
    }
  }

  /** Two changefeeds right after the cluster forms, a move of each kind, then an action every ~1.2 s of the chaos window. */
  static Plan draw(long seed, long chaosMillis, int limit) {
    Random random = new Random(seed);
    List<Action> actions = new ArrayList<>();
    actions.add(new Action(2_500, Kind.CREATE, random.nextLong(), 0));
    actions.add(new Action(2_600, Kind.CREATE, random.nextLong(), 0));
    // Every seed moves ownership, whatever its draws: a maintainer, then a span, early and again later.
    actions.add(new Action(4_500, Kind.MOVE_MAINTAINER, random.nextLong(), 0));
    actions.add(new Action(5_500, Kind.MOVE_SPAN, random.nextLong(), 0));
    double total = 0;
    for (Kind k : Kind.values()) {
      total += k.weight;
    }
    long at = 5_500;
    while (true) {
      at += 200 + random.nextInt(2_000);
      if (at >= chaosMillis) {
        break;
      }
      double x = random.nextDouble() * total;
      Kind kind = Kind.values()[0];
      for (Kind k : Kind.values()) {
        kind = k;
        x -= k.weight;
        if (x < 0) {
          break;
        }
      }
      actions.add(new Action(at, kind, random.nextLong(), 1_000 + random.nextInt(14_000)));
    }
    actions.add(new Action(chaosMillis - 6_000, Kind.MOVE_MAINTAINER, random.nextLong(), 0));
    actions.add(new Action(chaosMillis - 5_000, Kind.MOVE_SPAN, random.nextLong(), 0));
    actions.sort(Comparator.comparingLong(Action::atMillis));
    return new Plan(List.copyOf(actions.subList(0, Math.min(limit, actions.size()))));
  }
}
