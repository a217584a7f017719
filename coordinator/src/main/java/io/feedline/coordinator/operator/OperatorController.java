package io.feedline.coordinator.operator;

import io.feedline.common.id.ChangefeedId;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.proto.MaintainerStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * At most one operator per changefeed. Adding an add or move is two-step because its epoch must be
 * persisted first: {@link #reserve} takes the slot, the epoch is bumped (asynchronously, with nothing
 * locked: statuses and other changefeeds' operators proceed), then {@link #push} fills the slot — or
 * {@link #release} frees it when the bump failed. Owned by the coordinator's context.
 */
public final class OperatorController {

  private final Map<ChangefeedId, MaintainerOperator> operators = new LinkedHashMap<>();
  private final Set<ChangefeedId> reserved = new HashSet<>();

  /** Takes the changefeed's slot for an operator whose epoch is still being persisted. */
  public boolean reserve(ChangefeedId id) {
    if (operators.containsKey(id) || reserved.contains(id)) {
      return false;
    }
    reserved.add(id);
    return true;
  }

  public void release(ChangefeedId id) {
    reserved.remove(id);
  }

  /**
   * Puts {@code op} into its changefeed's slot, which must be free or reserved by the caller. Returns its
   * first messages; an operator already running (a racing push) makes this one rejected: empty.
   */
  public Optional<List<Outbound>> push(MaintainerOperator op) {
    ChangefeedId id = op.changefeed();
    reserved.remove(id);
    if (operators.containsKey(id)) {
      return Optional.empty();
    }
    operators.put(id, op);
    return Optional.of(op.messages());
  }

  public boolean busy(ChangefeedId id) {
    return operators.containsKey(id) || reserved.contains(id);
  }

  public Optional<MaintainerOperator> get(ChangefeedId id) {
    return Optional.ofNullable(operators.get(id));
  }

  /** Feeds a status to the changefeed's operator. Returns whether there is one. */
  public boolean onStatus(ChangefeedId id, NodeId from, MaintainerStatus status) {
    MaintainerOperator op = operators.get(id);
    if (op == null) {
      return false;
    }
    op.onStatus(from, status);
    return true;
  }

  public void onNodeRemoved(NodeId node) {
    operators.values().forEach(op -> op.onNodeRemoved(node));
  }

  /** Removes and returns every finished operator. */
  public List<MaintainerOperator> takeFinished() {
    List<MaintainerOperator> done = new ArrayList<>();
    operators.values().removeIf(op -> {
      if (op.outcome().isPresent()) {
        done.add(op);
        return true;
      }
      return false;
    });
    return done;
  }

  /** Every running operator's messages, for the periodic resend. */
  public List<Outbound> pendingMessages() {
    List<Outbound> out = new ArrayList<>();
    operators.values().forEach(op -> out.addAll(op.messages()));
    return out;
  }

  /** Destinations of running adds and moves: load the basic scheduler counts before they land. */
  public List<NodeId> inFlightDestinations() {
    List<NodeId> out = new ArrayList<>();
    operators.values().forEach(op -> op.destination().ifPresent(out::add));
    return out;
  }

  public int size() {
    return operators.size() + reserved.size();
  }
}
