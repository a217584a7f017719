package io.feedline.coordinator;

import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Role;
import io.feedline.common.metastore.LeaderFencedMetaStore;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metrics.Meters;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeContext;
import io.feedline.common.node.RoleVerticle;
import io.feedline.common.time.Scheduler;
import io.feedline.common.time.VertxScheduler;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.control.CoordinatorGauges;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator role of a node: campaigns in the metastore election on the node's session lease; the
 * winner runs a {@link Coordinator} for as long as it leads, stamped with the election version (the
 * leader key's revision). Losing the leadership (another leader observed, or the session lost) stops it
 * at once; undeploying resigns so another node takes over without waiting for the lease to expire.
 * A node that stands down (it is being drained or fenced itself) withdraws its candidacy for good, so
 * a node on its way out can never be elected later.
 */
public final class CoordinatorVerticle extends RoleVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorVerticle.class);

  private final AtomicInteger leading = new AtomicInteger();
  private Scheduler scheduler;
  private MetaStore.Leadership leadership;
  private MetaStore.Watch leaderWatch;
  private Coordinator coordinator;
  private Scheduler.Cancellable ticking;
  private CoordinatorGauges gauges;
  /** Writes the metastore refused because this node had lost the leadership it wrote under. */
  private Counter notLeaderWrites;
  private boolean stopped;
  /** False once the node stood down: it never campaigns again. Set from any thread. */
  private final AtomicBoolean candidate = new AtomicBoolean(true);

  public CoordinatorVerticle(NodeContext node) {
    super(node, Role.COORDINATOR);
  }

  /** The running coordinator, when this node leads. Call on this verticle's context (or for inspection in tests). */
  public Optional<Coordinator> coordinator() {
    return Optional.ofNullable(coordinator);
  }

  @Override
  protected Future<?> onStart() {
    scheduler = new VertxScheduler(vertx, context, Clock.systemUTC());
    node.membership().onChange(change -> context.runOnContext(v -> onMembership(change)));
    Meters.gauge(node.metrics(), "feedline.coordinator.leading", "1 on the node whose coordinator leads, else 0 (the sum over nodes must be 1)",
        leading, AtomicInteger::get);
    gauges = new CoordinatorGauges(node.metrics());
    notLeaderWrites = Counter.builder("feedline.coordinator.not.leader.writes")
        .description("Coordinator writes the metastore refused because their leadership had ended (the node then steps down)")
        .register(node.metrics());
    return Future.succeededFuture();
  }

  /**
   * Starts campaigning. The node calls this once its admin API serves: a coordinator elected before that
   * could not be reached by the requests other nodes forward to it, and every create failed until it could.
   */
  public void startCampaign() {
    context.runOnContext(v -> campaign());
  }

  private void campaign() {
    if (!candidate.get()) {
      return;
    }
    byte[] proposal = node.nodeId().value().getBytes(StandardCharsets.UTF_8);
    node.store().election().campaign(node.keys().coordinatorElection(), node.session().lease(), proposal)
        .onSuccess(this::lead)
        .onFailure(err -> {
          if (!stopped && candidate.get()) {
            LOG.warn("event=campaign_failed node={} error=\"{}\" action=retry", node.nodeId(), err.toString());
            scheduler.schedule(node.config().timings().resendInterval().toMillis(), this::campaign);
          }
        });
  }

  private void lead(MetaStore.Leadership won) {
    if (stopped || !candidate.get()) {
      // Also the late end of a campaign whose key was written after the withdraw: resigning removes it.
      won.resign();
      return;
    }
    leadership = won;
    long version = won.leader().revision();
    LOG.info("event=coordinator_elected node={} election_version={}", node.nodeId(), version);
    leaderWatch = node.store().election().observe(node.keys().coordinatorElection(), leader -> {
      if (!leader.key().equals(won.leader().key()) || !Arrays.equals(leader.proposal(), won.leader().proposal())) {
        stepDown("another leader: " + leader.key());
      }
    }, err -> stepDown("leader watch broke: " + err));
    // Every write of this term is fenced by the leadership: a deposed coordinator that has not noticed yet
    // (paused, partitioned) can neither bump an epoch nor write a checkpoint nor extend the TSO window.
    MetaStore fenced = new LeaderFencedMetaStore(node.store(), won.leader(), () -> {
      notLeaderWrites.increment();
      context.runOnContext(v -> {
        if (leadership == won) {
          stepDown("a metastore write was refused: this node no longer leads");
        }
      });
    });
    TimestampOracle.start(fenced, node.keys().tsoWindow(), Clock.systemUTC(), TimestampOracle.DEFAULT_WINDOW)
        .compose(tso -> {
          if (leadership != won) {
            return Future.succeededFuture();
          }
          Coordinator c = new Coordinator(node.nodeId(), version, new ChangefeedStore(fenced, node.keys()), tso::next,
              out -> out.sendWith(node.bus()), scheduler, CoordinatorSettings.from(node.config()), node.metrics());
          coordinator = c;
          leading.set(1);
          Meters.counter(node.metrics(), "feedline.coordinator.terms", "Leadership terms this node's coordinator won").increment();
          return c.start(node.membership().members().keySet()).onSuccess(v -> {
            if (coordinator == c) {
              ticking = scheduler.periodic(node.config().timings().coordinatorTick().toMillis(), () -> {
                c.tick();
                gauges.refresh(c.control(), scheduler.nowMillis());
              });
            }
          });
        })
        .onFailure(err -> stepDown("coordinator start failed: " + err));
  }

  private void onMembership(ClusterMembership.Change change) {
    if (coordinator == null) {
      return;
    }
    if (change.joined()) {
      coordinator.onNodeJoined(change.node());
    } else {
      coordinator.onNodeLeft(change.node());
    }
  }

  /** Stops coordinating at once and campaigns again (unless the node is stopping). */
  private void stepDown(String reason) {
    if (leadership == null) {
      return;
    }
    LOG.warn("event=coordinator_step_down node={} reason=\"{}\"", node.nodeId(), reason);
    endTerm().onComplete(ar -> {
      if (!stopped) {
        campaign();
      }
    });
  }

  private Future<Void> endTerm() {
    if (ticking != null) {
      ticking.cancel();
      ticking = null;
    }
    if (leaderWatch != null) {
      leaderWatch.cancel();
      leaderWatch = null;
    }
    if (coordinator != null) {
      coordinator.stop();
    }
    coordinator = null;
    leading.set(0);
    if (gauges != null) {
      gauges.clear();
    }
    MetaStore.Leadership ending = leadership;
    leadership = null;
    return ending == null ? Future.succeededFuture() : ending.resign().otherwiseEmpty();
  }

  /** Resigns the leadership (admin "coordinator resign"): another node is elected; this one campaigns again. */
  public Future<Void> resign() {
    if (leadership == null) {
      return Future.succeededFuture();
    }
    LOG.info("event=coordinator_resign node={}", node.nodeId());
    return endTerm().onComplete(ar -> {
      if (!stopped) {
        // Give the others a head start: campaign again only after a resend interval.
        scheduler.schedule(node.config().timings().resendInterval().toMillis(), this::campaign);
      }
    });
  }

  /**
   * Takes this node out of the election for good: ends a leadership held now and withdraws a campaign
   * waiting in the queue. Callable from any thread, also before this verticle is deployed (it then never
   * campaigns). Idempotent.
   */
  public void standDown(String reason) {
    if (!candidate.compareAndSet(true, false)) {
      return;
    }
    LOG.info("event=coordinator_candidacy_withdrawn node={} reason=\"{}\"", node.nodeId(), reason);
    Context ctx = context();
    if (ctx != null) {
      ctx.runOnContext(v -> endTerm()
          .compose(x -> node.store().election().withdraw(node.keys().coordinatorElection(), node.session().lease()))
          .onFailure(err -> LOG.warn("event=candidacy_withdraw_failed node={} error=\"{}\"", node.nodeId(), err.toString())));
    }
  }

  /** Whether this node still campaigns (it has not stood down). */
  public boolean candidate() {
    return candidate.get();
  }

  @Override
  protected Future<?> onStop() {
    stopped = true;
    return endTerm();
  }

  @Override
  protected void handle(Inbound message) {
    if (coordinator != null) {
      coordinator.onInbound(message);
    } else {
      unhandled(message); // not leading: a message for an earlier coordinator on this node
    }
  }

  /** For tests and the admin API: the node this verticle belongs to. */
  public NodeId nodeId() {
    return node.nodeId();
  }
}
