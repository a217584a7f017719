package io.feedline.coordinator.control;

import io.feedline.common.messaging.Outbound;
import io.feedline.coordinator.changefeed.RegistryOp;
import java.util.ArrayList;
import java.util.List;

/**
 * What the coordinator wants done after one input, performed by its runtime ({@code Coordinator}): messages to
 * send, registry calls and timestamp requests whose outcomes come back as inputs under the same id, and
 * answers to admin requests. Nothing here has happened yet when an input returns it.
 */
public record CoordinatorEffects(List<Outbound> messages, List<RegistryCall> registryCalls, List<Long> timestampRequests,
    List<AdminReply> replies) {

  /** A registry call; its {@link io.feedline.coordinator.changefeed.RegistryResult} is fed back with {@code id}. */
  public record RegistryCall(long id, RegistryOp op) {}

  /** The answer to the admin request {@code request}: a value, or an error (a {@code CoordinatorException} or a store failure). */
  public record AdminReply(long request, Object value, Throwable error) {

    static AdminReply of(long request, Object value) {
      return new AdminReply(request, value, null);
    }

    static AdminReply failed(long request, Throwable error) {
      return new AdminReply(request, null, error);
    }
  }

  /** Nothing to do. */
  public static final CoordinatorEffects NONE = new CoordinatorEffects(List.of(), List.of(), List.of(), List.of());

  public boolean isEmpty() {
    return messages.isEmpty() && registryCalls.isEmpty() && timestampRequests.isEmpty() && replies.isEmpty();
  }

  /** Collects the effects of one input, as the control managers decide them. */
  static final class Builder {
    private final List<Outbound> messages = new ArrayList<>();
    private final List<RegistryCall> registryCalls = new ArrayList<>();
    private final List<Long> timestampRequests = new ArrayList<>();
    private final List<AdminReply> replies = new ArrayList<>();

    void send(Outbound message) {
      messages.add(message);
    }

    void sendAll(List<Outbound> many) {
      messages.addAll(many);
    }

    void call(long id, RegistryOp op) {
      registryCalls.add(new RegistryCall(id, op));
    }

    void requestTimestamp(long id) {
      timestampRequests.add(id);
    }

    /** Answers admin request {@code request}; request 0 is an internal write nobody waits for. */
    void reply(long request, Object value) {
      if (request != 0) {
        replies.add(AdminReply.of(request, value));
      }
    }

    void fail(long request, Throwable error) {
      if (request != 0) {
        replies.add(AdminReply.failed(request, error));
      }
    }

    CoordinatorEffects build() {
      return new CoordinatorEffects(List.copyOf(messages), List.copyOf(registryCalls), List.copyOf(timestampRequests), List.copyOf(replies));
    }
  }
}
