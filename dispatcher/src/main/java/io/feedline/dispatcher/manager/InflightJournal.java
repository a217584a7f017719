package io.feedline.dispatcher.manager;

import io.feedline.dispatcher.dispatcher.DispatcherRef;
import io.feedline.proto.InflightOperator;
import io.feedline.proto.ScheduleAction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The schedule operations a dispatcher manager has accepted but not finished, keyed by
 * (dispatcher id, epoch) so operations of different ownerships of the same dispatcher never overwrite
 * each other. A new maintainer reads it in the bootstrap response to restore in-flight operators.
 */
final class InflightJournal {

  record Key(DispatcherRef ref, long epoch) {}

  private final Map<Key, InflightOperator> operators = new LinkedHashMap<>();

  void put(DispatcherRef ref, InflightOperator operator) {
    operators.put(new Key(ref, operator.getEpoch()), operator);
  }

  /** The dispatcher is Working: its creates, of any epoch, are done. */
  void removeCreates(DispatcherRef ref) {
    operators.entrySet().removeIf(e -> e.getKey().ref().equals(ref) && e.getValue().getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE);
  }

  /** The dispatcher stopped: nothing about it is in flight any more. */
  void removeAll(DispatcherRef ref) {
    operators.keySet().removeIf(k -> k.ref().equals(ref));
  }

  /**
   * What a bootstrap response at {@code currentEpoch} reports (DESIGN §6): operators of the current
   * epoch; a stale remove only if {@code snapshot} still holds its dispatcher (else the new owner would
   * wait for a Stopped that has already been reported); never a stale create (a delayed create from the
   * previous owner must not come back as an add operator for a span the new owner has placed).
   */
  List<InflightOperator> reportable(long currentEpoch, Set<DispatcherRef> snapshot) {
    List<InflightOperator> out = new ArrayList<>();
    for (Map.Entry<Key, InflightOperator> e : operators.entrySet()) {
      InflightOperator op = e.getValue();
      boolean current = e.getKey().epoch() == currentEpoch;
      boolean liveStaleRemove = op.getAction() == ScheduleAction.SCHEDULE_ACTION_REMOVE && snapshot.contains(e.getKey().ref());
      if (current || liveStaleRemove) {
        out.add(op);
      }
    }
    return out;
  }

  Collection<InflightOperator> all() {
    return List.copyOf(operators.values());
  }
}
