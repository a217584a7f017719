package io.feedline.maintainer.changefeed;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Role;
import java.util.ArrayList;
import java.util.List;

/** What a {@link ChangefeedMaintainer} wants sent after one input; its runtime sends it. */
public record ChangefeedMaintainerEffects(List<Outbound> messages) {

  public static final ChangefeedMaintainerEffects NONE = new ChangefeedMaintainerEffects(List.of());

  public ChangefeedMaintainerEffects {
    messages = List.copyOf(messages);
  }

  /** Collects the messages of one input, in order. */
  static final class Builder {
    private final List<Outbound> messages = new ArrayList<>();

    void toDispatchers(NodeId node, Message payload) {
      messages.add(new Outbound(node, Role.DISPATCHER_ORCHESTRATOR, payload));
    }

    void add(Outbound message) {
      messages.add(message);
    }

    ChangefeedMaintainerEffects build() {
      return messages.isEmpty() ? NONE : new ChangefeedMaintainerEffects(messages);
    }
  }
}
