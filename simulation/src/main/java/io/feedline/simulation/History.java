package io.feedline.simulation;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * What happened in one seed, in order: a running 64-bit hash of every event (message delivered, write attempted,
 * metastore commit, workload and fault action), which two runs of a seed must agree on exactly, and the last
 * {@link #TAIL} events in words, for a failure's report.
 */
final class History {

  static final int TAIL = 60;

  private record Event(long at, String what) {}

  private final ArrayDeque<Event> tail = new ArrayDeque<>();
  /** Where every event is also printed as it happens ({@code simulate --trace}); null: nowhere. */
  private final Consumer<String> trace;
  private long hash = 0xcbf29ce484222325L;
  private long events;

  /** Records one event; {@code at} is the simulated time in ms since the run began. */
  History(Consumer<String> trace) {
    this.trace = trace;
  }

  void record(long at, String event) {
    if (trace != null) {
      trace.accept(String.format("%8d ms  %s", at, event));
    }
    events++;
    hash = mix(hash ^ at);
    for (int i = 0; i < event.length(); i++) {
      hash = (hash ^ event.charAt(i)) * 0x100000001b3L;
    }
    if (tail.size() == TAIL) {
      tail.removeFirst();
    }
    tail.addLast(new Event(at, event));
  }

  long hash() {
    return hash;
  }

  long events() {
    return events;
  }

  List<String> tail() {
    return tail.stream().map(e -> String.format("%8d ms  %s", e.at, e.what)).toList();
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
