package io.feedline.common.node;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.common.time.Scheduler;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live nodes of the cluster, as registered in the metastore: listed once, then kept current by a
 * prefix watch. A broken watch (e.g. compacted history, a metastore restart) re-lists and re-watches,
 * reporting the difference as joins and leaves, so no change is silently missed; a re-list that fails is
 * tried again every {@link #RELIST_RETRY_MILLIS} until it succeeds.
 */
public final class ClusterMembership {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterMembership.class);
  static final long RELIST_RETRY_MILLIS = 500;

  /** A node joined ({@code registration} present) or left (absent). */
  public record Change(NodeId node, Optional<NodeRegistration> registration) {
    public boolean joined() {
      return registration.isPresent();
    }
  }

  private final MetaStore store;
  private final MetaKeys keys;
  private final Scheduler scheduler;
  private final Map<NodeId, NodeRegistration> members = new ConcurrentHashMap<>();
  /** Added from any role's context while changes fire on the watch's. */
  private final List<Handler<Change>> listeners = new CopyOnWriteArrayList<>();
  private MetaStore.Watch watch;
  private volatile boolean stopped;
  /** Failed re-lists since the watch broke; only the first is logged. */
  private int failedRelists;

  /** @param scheduler times the retries of a failed re-list */
  public ClusterMembership(MetaStore store, MetaKeys keys, Scheduler scheduler) {
    this.store = store;
    this.keys = keys;
    this.scheduler = scheduler;
  }

  /** Adds a listener; call before {@link #start()} to see the initial members as joins too. */
  public void onChange(Handler<Change> listener) {
    listeners.add(listener);
  }

  public Future<Void> start() {
    return store.getPrefix(keys.nodes()).map(range -> {
      Map<NodeId, NodeRegistration> listed = new java.util.HashMap<>();
      for (KeyValue kv : range.kvs()) {
        parse(kv).ifPresent(r -> listed.put(keys.nodeOf(kv.key()), r));
      }
      for (NodeId gone : List.copyOf(members.keySet())) {
        if (!listed.containsKey(gone)) {
          members.remove(gone);
          fire(new Change(gone, Optional.empty()));
        }
      }
      listed.forEach((node, reg) -> {
        if (members.put(node, reg) == null) {
          fire(new Change(node, Optional.of(reg)));
        }
      });
      if (!stopped) {
        watch = store.watchPrefix(keys.nodes(), range.revision() + 1, this::apply, this::rewatch);
      }
      return null;
    });
  }

  /** The members now, sorted by node id: every caller walks them in one order, on every node and in every replay of a simulation. */
  public Map<NodeId, NodeRegistration> members() {
    return Collections.unmodifiableMap(new TreeMap<>(members));
  }

  public void stop() {
    stopped = true;
    if (watch != null) {
      watch.cancel();
    }
  }

  private void apply(WatchEvent event) {
    NodeId node = keys.nodeOf(event.kv().key());
    if (event.type() == WatchEvent.Type.DELETE) {
      if (members.remove(node) != null) {
        fire(new Change(node, Optional.empty()));
      }
      return;
    }
    parse(event.kv()).ifPresent(reg -> {
      if (members.put(node, reg) == null) {
        fire(new Change(node, Optional.of(reg)));
      }
    });
  }

  private void rewatch(Throwable cause) {
    if (stopped) {
      return;
    }
    // After a pause: a store that lists but cannot watch would otherwise be asked again in a tight loop.
    LOG.warn("event=membership_watch_broken error=\"{}\" action=relist_in_ms={}", cause.toString(), RELIST_RETRY_MILLIS);
    scheduler.schedule(RELIST_RETRY_MILLIS, this::relist);
  }

  /** Giving up after one failed re-list would freeze this node's view of the cluster for good. */
  private void relist() {
    if (stopped) {
      return;
    }
    start().onComplete(ar -> {
      if (ar.succeeded()) {
        if (failedRelists > 0) {
          LOG.info("event=membership_relisted failed_attempts={}", failedRelists);
        }
        failedRelists = 0;
      } else if (!stopped) {
        if (failedRelists++ == 0) {
          LOG.warn("event=membership_relist_failed error=\"{}\" action=retry_every_ms={}", ar.cause().toString(), RELIST_RETRY_MILLIS);
        }
        scheduler.schedule(RELIST_RETRY_MILLIS, this::relist);
      }
    });
  }

  private void fire(Change change) {
    LOG.info("event=node_{} node={}", change.joined() ? "joined" : "left", change.node());
    for (Handler<Change> listener : listeners) {
      listener.handle(change);
    }
  }

  private static Optional<NodeRegistration> parse(KeyValue kv) {
    try {
      return Optional.of(NodeRegistration.parseFrom(kv.value()));
    } catch (InvalidProtocolBufferException e) {
      LOG.warn("event=bad_node_registration key={} error=\"{}\"", kv.key(), e.getMessage());
      return Optional.empty();
    }
  }
}
