package io.feedline.dispatcher.manager;

import io.feedline.common.id.DispatcherKey;
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

  /**
   * dispatcher → epoch → operator. By dispatcher first: a dispatcher turning Working or stopping drops its
   * own entries without scanning the journal, which holds every create in flight (a hundred thousand
   * while a large changefeed is being placed).
   */
  private final Map<DispatcherKey, Map<Long, InflightOperator>> operators = new LinkedHashMap<>();

  void put(DispatcherKey ref, InflightOperator operator) {
    operators.computeIfAbsent(ref, r -> new LinkedHashMap<>(2)).put(operator.getEpoch(), operator);
  }

  /** The dispatcher is Working: its creates, of any epoch, are done. */
  void removeCreates(DispatcherKey ref) {
    Map<Long, InflightOperator> ofRef = operators.get(ref);
    if (ofRef != null && ofRef.values().removeIf(op -> op.getAction() == ScheduleAction.SCHEDULE_ACTION_CREATE) && ofRef.isEmpty()) {
      operators.remove(ref);
    }
  }

  /** The dispatcher stopped: nothing about it is in flight any more. */
  void removeAll(DispatcherKey ref) {
    operators.remove(ref);
  }

  /**
   * What a bootstrap response at {@code currentEpoch} reports (DESIGN §6): operators of the current
   * epoch; a stale remove only if {@code snapshot} still holds its dispatcher (else the new owner would
   * wait for a Stopped that has already been reported); never a stale create (a delayed create from the
   * previous owner must not come back as an add operator for a span the new owner has placed).
   */
  List<InflightOperator> reportable(long currentEpoch, Set<DispatcherKey> snapshot) {
    List<InflightOperator> out = new ArrayList<>();
    operators.forEach((ref, ofRef) -> ofRef.forEach((epoch, op) -> {
      boolean current = epoch == currentEpoch;
      boolean liveStaleRemove = op.getAction() == ScheduleAction.SCHEDULE_ACTION_REMOVE && snapshot.contains(ref);
      if (current || liveStaleRemove) {
        out.add(op);
      }
    }));
    return out;
  }

  Collection<InflightOperator> all() {
    List<InflightOperator> all = new ArrayList<>();
    operators.values().forEach(ofRef -> all.addAll(ofRef.values()));
    return all;
  }
}
