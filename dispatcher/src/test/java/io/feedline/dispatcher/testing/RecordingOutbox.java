package io.feedline.dispatcher.testing;

import com.google.protobuf.Message;
import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Role;
import io.feedline.dispatcher.manager.Outbox;
import java.util.ArrayList;
import java.util.List;

/** An {@link Outbox} that keeps what was sent, for assertions. */
public final class RecordingOutbox implements Outbox {

  public record Sent(NodeId to, Role role, Message payload) {}

  private final List<Sent> sent = new ArrayList<>();

  @Override
  public void send(NodeId to, Role role, Message payload) {
    sent.add(new Sent(to, role, payload));
  }

  public List<Sent> all() {
    return List.copyOf(sent);
  }

  /** Payloads of {@code type}, oldest first. */
  public <T extends Message> List<T> of(Class<T> type) {
    return sent.stream().map(Sent::payload).filter(type::isInstance).map(type::cast).toList();
  }

  public <T extends Message> List<Sent> sentOf(Class<T> type) {
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
