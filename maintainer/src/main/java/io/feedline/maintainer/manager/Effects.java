package io.feedline.maintainer.manager;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Role;
import io.feedline.maintainer.Maintainer;
import java.util.List;

/**
 * What the maintainer manager wants done after one input; {@link MaintainerManagerRuntime} performs it:
 * sends the messages, starts the new maintainers, then stops the listed ones and reports each stop's
 * completion back to the manager.
 */
public record Effects(List<Outbound> messages, List<Maintainer> starts, List<StopOrder> stops) {

  /** One control message to send. */
  public record Outbound(NodeId to, Role role, Message payload) {}

  /** Stop {@code maintainer}; with {@code cascade} its dispatcher managers are closed first. */
  public record StopOrder(Maintainer maintainer, boolean cascade, boolean removed) {}

  public static final Effects NONE = new Effects(List.of(), List.of(), List.of());

  public Effects {
    messages = List.copyOf(messages);
    starts = List.copyOf(starts);
    stops = List.copyOf(stops);
  }

  /** These effects, then {@code other}'s. */
  Effects and(Effects other) {
    if (other.equals(NONE)) {
      return this;
    }
    if (equals(NONE)) {
      return other;
    }
    return new Effects(concat(messages, other.messages), concat(starts, other.starts), concat(stops, other.stops));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  static Effects send(NodeId to, Role role, Message payload) {
    return new Effects(List.of(new Outbound(to, role, payload)), List.of(), List.of());
  }

  static Effects start(Maintainer maintainer) {
    return new Effects(List.of(), List.of(maintainer), List.of());
  }

  static Effects stop(Maintainer maintainer, boolean cascade, boolean removed) {
    return new Effects(List.of(), List.of(), List.of(new StopOrder(maintainer, cascade, removed)));
  }

  /** Start {@code maintainer}, then stop it at once: for one whose only work is its stop. */
  static Effects startAndStop(Maintainer maintainer, boolean cascade, boolean removed) {
    return new Effects(List.of(), List.of(maintainer), List.of(new StopOrder(maintainer, cascade, removed)));
  }
}
