package io.feedline.common.testing;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Outbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.messaging.Role;
import java.util.ArrayList;
import java.util.List;

/** An {@link Outbox} that keeps what was sent, for assertions. */
public final class RecordingOutbox implements Outbox {

  private final List<Outbound> sent = new ArrayList<>();

  @Override
  public void send(NodeId to, Role role, Message payload) {
    sent.add(new Outbound(to, role, payload));
  }

  public List<Outbound> all() {
    return List.copyOf(sent);
  }

  /** Payloads of {@code type}, oldest first. */
  public <T extends Message> List<T> of(Class<T> type) {
    return sent.stream().map(Outbound::payload).filter(type::isInstance).map(type::cast).toList();
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

  /** The messages whose payload is a {@code type}, oldest first. */
  public <T extends Message> List<Outbound> sentOf(Class<T> type) {
    return sent.stream().filter(s -> type.isInstance(s.payload())).toList();
  }

  public <T extends Message> T last(Class<T> type) {
    List<T> all = of(type);
    return all.isEmpty() ? null : all.get(all.size() - 1);
  }

  public void clear() {
    sent.clear();
  }
}
