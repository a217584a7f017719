package io.feedline.common.node;

import com.google.protobuf.InvalidProtocolBufferException;
import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.KeyValue;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metastore.WatchEvent;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live nodes of the cluster, as registered in the metastore: listed once, then kept current by a
 * prefix watch. A broken watch (e.g. compacted history) re-lists and re-watches, reporting the
 * difference as joins and leaves, so no change is silently missed.
 */
public final class ClusterMembership {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterMembership.class);

  /** A node joined ({@code registration} present) or left (absent). */
  public record Change(NodeId node, Optional<NodeRegistration> registration) {
    public boolean joined() {
      return registration.isPresent();
    }
  }

  private final MetaStore store;
  private final MetaKeys keys;
  private final Map<NodeId, NodeRegistration> members = new ConcurrentHashMap<>();
  /** Added from any role's context while changes fire on the watch's. */
  private final List<Handler<Change>> listeners = new CopyOnWriteArrayList<>();
  private MetaStore.Watch watch;
  private boolean stopped;

  public ClusterMembership(MetaStore store, MetaKeys keys) {
    this.store = store;
    this.keys = keys;
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

  public Map<NodeId, NodeRegistration> members() {
    return Map.copyOf(members);
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
    LOG.warn("event=membership_watch_broken error=\"{}\" action=relist", cause.toString());
    start().onFailure(err -> LOG.error("event=membership_relist_failed error=\"{}\"", err.toString()));
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
