package io.feedline.coordinator.control;

import io.feedline.coordinator.CoordinatorException;
import io.feedline.coordinator.changefeed.RegistryOp;
import io.feedline.coordinator.changefeed.RegistryResult;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One changefeed's writes, one at a time, in order: a write waits for the one in flight (a checkpoint batch,
 * an epoch bump, another admin call) and is then computed over the revisions that one left, never refused for
 * it. A lost compare-and-set (a concurrent checkpoint write) reads the records again and tries again, bounded.
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
    Optional<RegistryOp> op = write.mutation().write(cf.record, timestamp);
    if (op.isEmpty()) {
      write.mutation().written(cf);
      out.reply(write.request(), cf.record);
      end(cf, out);
      return;
    }
    out.call(state.await(new Pending.Written(cf, write, attempt)), op.get());
  }

  void onTimestamp(Pending.WriteTimestamp p, long timestamp, Throwable error, CoordinatorEffects.Builder out) {
    if (error != null) {
      out.fail(p.write().request(), new CoordinatorException(CoordinatorException.Reason.UNAVAILABLE,
          "no timestamp for changefeed " + p.cf().id() + "'s new epoch: " + error.getMessage() + "; retry"));
      end(p.cf(), out);
      return;
    }
    issue(p.cf(), p.write(), p.attempt(), timestamp, out);
  }

  void onWritten(Pending.Written p, RegistryResult result, CoordinatorEffects.Builder out) {
    Changefeed cf = p.cf();
    Queued write = p.write();
    if (result instanceof RegistryResult.Written w) {
      cf.record = w.record();
      write.mutation().written(cf);
      out.reply(write.request(), w.record());
    } else if (result instanceof RegistryResult.Deleted) {
      if (state.changefeeds.get(cf.id()) == cf) {
        state.changefeeds.remove(cf.id());
      }
      LOG.info("event=changefeed_removed changefeed={}", cf.id());
      out.reply(write.request(), cf.record);
    } else if (result instanceof RegistryResult.Failed f && f.conflict() && p.attempt() < ATTEMPTS) {
      out.call(state.await(new Pending.Reread(cf, write, p.attempt())), new RegistryOp.Load(cf.id()));
      return;
    } else {
      Throwable error = result instanceof RegistryResult.Failed f ? f.error() : new IllegalStateException("unexpected " + result);
      LOG.warn("event=changefeed_write_failed changefeed={} write={} error=\"{}\"", cf.id(), write.mutation(), error.toString());
      out.fail(write.request(), error);
      refresh(cf, out);
    }
    end(cf, out);
  }

  void onReread(Pending.Reread p, RegistryResult result, CoordinatorEffects.Builder out) {
    Changefeed cf = p.cf();
    if (result instanceof RegistryResult.Loaded l && l.record().isPresent()) {
      cf.record = l.record().get();
      attempt(cf, p.write(), p.attempt() + 1, out);
      return;
    }
    if (result instanceof RegistryResult.Loaded) {
      forget(cf);
      out.fail(p.write().request(), notFound(cf));
    } else {
      out.fail(p.write().request(), result instanceof RegistryResult.Failed f ? f.error() : new IllegalStateException("unexpected " + result));
    }
    end(cf, out);
  }

  /** Reads {@code cf} again after a failed write, so its next write compares the right revisions. */
  void refresh(Changefeed cf, CoordinatorEffects.Builder out) {
    out.call(state.await(new Pending.Refreshed(cf)), new RegistryOp.Load(cf.id()));
  }

  void onRefreshed(Pending.Refreshed p, RegistryResult result) {
    if (result instanceof RegistryResult.Loaded l) {
      l.record().ifPresentOrElse(r -> p.cf().record = r, () -> forget(p.cf()));
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
      if (state.changefeeds.get(cf.id()) != cf) {
        out.fail(next.request(), notFound(cf));
        continue;
      }
      cf.beginWrite();
      attempt(cf, next, 1, out);
      return;
    }
  }

  private void forget(Changefeed cf) {
    if (state.changefeeds.get(cf.id()) == cf) {
      state.changefeeds.remove(cf.id());
    }
  }

  static CoordinatorException notFound(Changefeed cf) {
    return new CoordinatorException(CoordinatorException.Reason.NOT_FOUND, "changefeed " + cf.id() + " does not exist");
  }
}
