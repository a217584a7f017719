package io.feedline.dispatcher.manager;

import com.google.protobuf.Message;
import io.feedline.common.id.DispatcherKey;
import io.feedline.dispatcher.dispatcher.DispatcherSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link DispatcherManager} wants done after one input; {@link ManagerRuntime} performs it.
 *
 * @param replies messages for the owning maintainer (its node's maintainer manager)
 * @param commands dispatchers to start or stop, in order
 * @param statusChanged a dispatcher changed state: send a heartbeat now rather than at the next tick
 */
public record DispatcherManagerEffects(List<Message> replies, List<Command> commands, List<Notice> notices, boolean statusChanged) {

  public static final DispatcherManagerEffects NONE = new DispatcherManagerEffects(List.of(), List.of(), List.of(), false);

  public DispatcherManagerEffects {
    replies = List.copyOf(replies);
    commands = List.copyOf(commands);
    notices = List.copyOf(notices);
  }

  /** Something to do to a running dispatcher. */
  public sealed interface Command {}

  public record Start(DispatcherSpec spec) implements Command {}

  /** Stop writing; the runtime reports back with {@link DispatcherManager#dispatcherStopped}. */
  public record Stop(DispatcherKey ref) implements Command {}

  /** A barrier action for a dispatcher blocked at {@code commitTs}: write the DDL, or pass it. */
  public record Release(DispatcherKey ref, long commitTs, boolean write) implements Command {}

  /** Collects effects while one input is decided. */
  static final class Builder {
    private final List<Message> replies = new ArrayList<>();
    private final List<Command> commands = new ArrayList<>();
    private final List<Notice> notices = new ArrayList<>();
    private boolean statusChanged;

    Builder reply(Message message) {
      replies.add(message);
      return this;
    }

    Builder command(Command command) {
      commands.add(command);
      return this;
    }

    Builder notice(Notice notice) {
      notices.add(notice);
      return this;
    }

    Builder statusChanged() {
      statusChanged = true;
      return this;
    }

    DispatcherManagerEffects build() {
      if (replies.isEmpty() && commands.isEmpty() && notices.isEmpty() && !statusChanged) {
        return NONE;
      }
      return new DispatcherManagerEffects(replies, commands, notices, statusChanged);
    }
  }
}
