package io.feedline.common.node;

import io.feedline.common.id.NodeId;
import io.feedline.common.metastore.MetaKeys;
import io.feedline.common.metastore.MetaStore;
import io.feedline.proto.NodeRegistration;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.concurrent.TimeUnit;

/**
 * A node's presence in the metastore: a lease kept alive for the life of the process and the node's
 * registration key bound to it. When the lease is lost the node must stop writing at once (self-fence);
 * the {@link #onLost} handler is where the runtime does that.
 */
public final class NodeSession {

  private final MetaStore store;
  private final MetaKeys keys;
  private volatile NodeRegistration registration;
  private final MetaStore.Lease lease;
  private volatile boolean lost;
  private static final long LOST_REVOKE_TIMEOUT_MS = 2_000;

  private NodeSession(MetaStore store, MetaKeys keys, NodeRegistration registration, MetaStore.Lease lease) {
    this.store = store;
    this.keys = keys;
    this.registration = registration;
    this.lease = lease;
    lease.onLost(v -> lost = true);
  }

  /** Grants the session lease and registers the node under it. */
  public static Future<NodeSession> open(MetaStore store, MetaKeys keys, NodeRegistration registration, long ttlSeconds) {
    NodeId node = NodeId.of(registration.getNodeId());
    return store.grantLease(ttlSeconds).compose(lease ->
        store.put(keys.node(node), registration.toByteArray(), lease.id())
            .map(rev -> new NodeSession(store, keys, registration, lease))
            // Do not leave an orphan lease behind if the registration could not be written.
            .recover(err -> lease.revoke().transform(ignored -> Future.failedFuture(err))));
  }

  public NodeRegistration registration() {
    return registration;
  }

  /**
   * The node answers its admin API now: its registration says so (under the same lease), and node list
   * shows it ready instead of starting.
   */
  public Future<Void> serving() {
    NodeRegistration now = registration.toBuilder().setServing(true).build();
    return store.put(keys.node(NodeId.of(now.getNodeId())), now.toByteArray(), lease.id()).onSuccess(rev -> registration = now).mapEmpty();
  }

  public MetaStore.Lease lease() {
    return lease;
  }

  /**
   * Runs {@code handler} once when the session is lost (at once if it already is). Every role that must
   * stop writing registers its own: the process that has to exit and the dispatcher side that has to fence
   * its write paths both need to know (the lease keeps every handler).
   */
  public void onLost(Handler<Void> handler) {
    lease.onLost(handler);
  }

  /**
   * Leaves the cluster: revokes the lease, which deletes the registration (and any leader key on it). A
   * lost session is revoked too, in case the store still holds it (the holder gave up on it early, on its
   * safety margin), but for at most {@link #LOST_REVOKE_TIMEOUT_MS}: the store is likely away.
   */
  public Future<Void> close() {
    return lost ? lease.revoke().timeout(LOST_REVOKE_TIMEOUT_MS, TimeUnit.MILLISECONDS).otherwiseEmpty() : lease.revoke();
  }

  public MetaStore store() {
    return store;
  }

  public MetaKeys keys() {
    return keys;
  }
}
