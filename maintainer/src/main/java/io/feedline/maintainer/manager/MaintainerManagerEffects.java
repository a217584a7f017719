package io.feedline.maintainer.manager;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import io.feedline.maintainer.Maintainer;
import java.util.List;

/**
 * What the maintainer manager wants done after one input; {@link MaintainerManagerRuntime} performs it:
 * sends the messages, starts the new maintainers, then stops the listed ones and reports each stop's
 * completion back to the manager.
 */
public record MaintainerManagerEffects(List<Outbound> messages, List<Maintainer> starts, List<StopOrder> stops) {

  /** Stop {@code maintainer}; with {@code cascade} its dispatcher managers are closed first. */
  public record StopOrder(Maintainer maintainer, boolean cascade, boolean removed) {}

  public static final MaintainerManagerEffects NONE = new MaintainerManagerEffects(List.of(), List.of(), List.of());

  public MaintainerManagerEffects {
    messages = List.copyOf(messages);
    starts = List.copyOf(starts);
    stops = List.copyOf(stops);
  }

  /** These effects, then {@code other}'s. */
  MaintainerManagerEffects and(MaintainerManagerEffects other) {
    if (other.equals(NONE)) {
      return this;
    }
    if (equals(NONE)) {
      return other;
    }
    return new MaintainerManagerEffects(concat(messages, other.messages), concat(starts, other.starts), concat(stops, other.stops));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  static MaintainerManagerEffects send(NodeId to, Role role, Message payload) {
    return new MaintainerManagerEffects(List.of(new Outbound(to, role, payload)), List.of(), List.of());
  }

  static MaintainerManagerEffects start(Maintainer maintainer) {
    return new MaintainerManagerEffects(List.of(), List.of(maintainer), List.of());
  }

  static MaintainerManagerEffects stop(Maintainer maintainer, boolean cascade, boolean removed) {
    return new MaintainerManagerEffects(List.of(), List.of(), List.of(new StopOrder(maintainer, cascade, removed)));
  }

  /** Start {@code maintainer}, then stop it at once: for one whose only work is its stop. */
  static MaintainerManagerEffects startAndStop(Maintainer maintainer, boolean cascade, boolean removed) {
    return new MaintainerManagerEffects(List.of(), List.of(maintainer), List.of(new StopOrder(maintainer, cascade, removed)));
  }
}
