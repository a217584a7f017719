package io.feedline.coordinator.control;

import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One changefeed's writes, one at a time, in order: a write (an admin request, a warning, a stop's last step)
 * waits for the one in flight (a checkpoint batch, an epoch bump, another write) and is then computed over the
 * records that one left, never refused for it. A lost compare-and-set (another writer: a deposed coordinator's
 * write already in flight, an operator's hand edit) reads the records again and tries again, bounded.
 * Different changefeeds never wait for each other.
 */
final class ChangefeedWrites {

  private static final Logger LOG = LoggerFactory.getLogger(ChangefeedWrites.class);
  static final int ATTEMPTS = 3;

  /** A write waiting for its turn, and the admin request waiting for it (0: none). */
  record Queued(Mutation mutation, long request) {}

  private final CoordinatorState state;

  ChangefeedWrites(CoordinatorState state) {
    this.state = state;
  }

  /** Writes {@code mutation} now, or after the write in flight; answers {@code request} with the record written. */
  void submit(Changefeed cf, Mutation mutation, long request, CoordinatorEffects.Builder out) {
    Queued write = new Queued(mutation, request);
    if (cf.writing()) {
      cf.queued.add(write);
      return;
    }
    cf.beginWrite();
    attempt(cf, write, 1, out);
  }

  private void attempt(Changefeed cf, Queued write, int attempt, CoordinatorEffects.Builder out) {
    if (write.mutation().needsTimestamp()) {
      out.requestTimestamp(state.await(new Pending.WriteTimestamp(cf, write, attempt)));
    } else {
      issue(cf, write, attempt, 0, out);
    }
  }

  private void issue(Changefeed cf, Queued write, int attempt, long timestamp, CoordinatorEffects.Builder out) {
    Optional<RegistryOp> op;
    try {
      Optional<RuntimeException> refused = write.mutation().refusal(cf.record);
      if (refused.isPresent()) {
        out.fail(write.request(), refused.get());
        end(cf, out);
        return;
      }
      op = write.mutation().write(cf.record, timestamp);
    } catch (RuntimeException e) {
      // An admin update's function that throws: the request fails, the changefeed's writes go on.
      out.fail(write.request(), e);
      end(cf, out);
      return;
    }
    if (op.isEmpty()) {
      out.reply(write.request(), cf.record); // nothing to change: the records as they are answer it
      end(cf, out);
      return;
    }
    out.call(state.await(new Pending.Write(cf, write, attempt)), op.get());
  }

  void onTimestamp(Pending.WriteTimestamp p, long timestamp, Throwable error, CoordinatorEffects.Builder out) {
    if (!state.current(p.cf())) {
      abandon(p.cf(), p.write(), out);
    } else if (error != null) {
      out.fail(p.write().request(), new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE,
          "no timestamp for changefeed " + p.cf().id() + "'s new epoch: " + error.getMessage() + "; retry"));
      end(p.cf(), out);
    } else {
      issue(p.cf(), p.write(), p.attempt(), timestamp, out);
    }
  }

  void onWritten(Pending.Write p, RegistryResult result, CoordinatorEffects.Builder out) {
    Changefeed cf = p.cf();
    Queued write = p.write();
    if (!state.current(cf)) {
      abandon(cf, write, out);
      return;
    }
    if (result instanceof RegistryResult.Written w) {
      cf.apply(w.record());
      write.mutation().written(cf);
      out.reply(write.request(), w.record());
    } else if (result instanceof RegistryResult.Deleted) {
      state.changefeeds.remove(cf.id());
      LOG.info("event=changefeed_removed changefeed={}", cf.id());
      out.reply(write.request(), cf.record);
    } else if (result instanceof RegistryResult.Failed f && f.conflict() && p.attempt() < ATTEMPTS) {
      out.call(state.await(new Pending.Reread(cf, write, p.attempt())), new RegistryOp.Load(cf.id()));
      return;
    } else {
      Throwable error = errorOf(result);
      LOG.warn("event=changefeed_write_failed changefeed={} write={} error=\"{}\"", cf.id(), write.mutation(), error.toString());
      out.fail(write.request(), error);
      refresh(cf, out);
    }
    end(cf, out);
  }

  void onReread(Pending.Reread p, RegistryResult result, CoordinatorEffects.Builder out) {
    Changefeed cf = p.cf();
    if (!state.current(cf)) {
      abandon(cf, p.write(), out);
    } else if (result instanceof RegistryResult.Loaded l && l.record().isPresent()) {
      cf.apply(l.record().get());
      attempt(cf, p.write(), p.attempt() + 1, out);
    } else if (result instanceof RegistryResult.Loaded) {
      state.changefeeds.remove(cf.id());
      abandon(cf, p.write(), out);
    } else {
      out.fail(p.write().request(), errorOf(result));
      end(cf, out);
    }
  }

  /** Reads {@code cf} again after a failed write, so its next write compares the right revisions. */
  void refresh(Changefeed cf, CoordinatorEffects.Builder out) {
    out.call(state.await(new Pending.Refresh(cf)), new RegistryOp.Load(cf.id()));
  }

  void onRefreshed(Pending.Refresh p, RegistryResult result) {
    if (result instanceof RegistryResult.Loaded l && state.current(p.cf())) {
      l.record().ifPresentOrElse(p.cf()::apply, () -> state.changefeeds.remove(p.cf().id()));
    }
  }

  /**
   * The write in flight ended, its outcome applied: the next queued one starts, even for a changefeed dropped
   * meanwhile (its queued requests are answered, not left waiting for ever).
   */
  void end(Changefeed cf, CoordinatorEffects.Builder out) {
    cf.endWrite();
    Queued next;
    while ((next = cf.queued.poll()) != null) {
      if (!state.current(cf)) {
        out.fail(next.request(), CoordinatorState.notFound(cf.id()));
        continue;
      }
      cf.beginWrite();
      attempt(cf, next, 1, out);
      return;
    }
  }

  /** The changefeed is gone from memory (removed, or dropped and created again): its write answers not found. */
  private void abandon(Changefeed cf, Queued write, CoordinatorEffects.Builder out) {
    out.fail(write.request(), CoordinatorState.notFound(cf.id()));
    end(cf, out);
  }

  static Throwable errorOf(RegistryResult result) {
    return result instanceof RegistryResult.Failed f ? f.error() : new IllegalStateException("unexpected registry answer " + result);
  }
}
