package io.feedline.maintainer;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Role;
import java.util.ArrayList;
import java.util.List;

/** An outbox that keeps what was sent, for assertions. */
public final class RecordingOutbox implements Outbox {

  public record Sent(NodeId to, Role role, Message payload) {}

  private final List<Sent> sent = new ArrayList<>();

  @Override
  public void send(NodeId to, Role role, Message payload) {
    sent.add(new Sent(to, role, payload));
  }

  public List<Sent> sent() {
    return List.copyOf(sent);
  }

  /** The payloads of {@code type} sent to {@code role}, in order. */
  public <T extends Message> List<T> of(Role role, Class<T> type) {
    return sent.stream().filter(s -> s.role() == role && type.isInstance(s.payload())).map(s -> type.cast(s.payload())).toList();
  }

  /** The payloads of {@code type} sent to {@code role} on {@code node}, in order. */
  public <T extends Message> List<T> of(NodeId node, Role role, Class<T> type) {
    return sent.stream().filter(s -> s.to().equals(node) && s.role() == role && type.isInstance(s.payload()))
        .map(s -> type.cast(s.payload())).toList();
  }

  public void clear() {
    sent.clear();
  }
}
