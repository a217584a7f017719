package io.feedline.coordinator;

import io.feedline.common.id.NodeId;
import io.feedline.common.messaging.Inbound;
import io.feedline.common.messaging.Outbox;
import io.feedline.common.metastore.LeaderFencedMetaStore;
import io.feedline.common.metastore.MetaStore;
import io.feedline.common.metrics.Meters;
import io.feedline.common.node.ClusterMembership;
import io.feedline.common.node.NodeContext;
import io.feedline.common.time.Scheduler;
import io.feedline.common.tso.TimestampOracle;
import io.feedline.coordinator.changefeed.ChangefeedStore;
import io.feedline.coordinator.control.CoordinatorGauges;
import io.micrometer.core.instrument.Counter;
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
 * A node's candidacy for the coordinator: campaigns in the metastore election on the node's session lease; the
 * winner runs a {@link Coordinator} for as long as it leads, stamped with the election version (the leader key's
 * revision). Losing the leadership (another leader observed, or a write refused because it ended) stops it at once
 * and campaigns again. A node that stands down (it is being drained or fenced itself) withdraws its candidacy for
 * good, so a node on its way out can never be elected later.
 *
 * <p>Everything runs on {@code scheduler}'s context: the {@link CoordinatorVerticle}'s in a node, the simulator's one
 * thread in the deterministic simulation, which so runs the very election and term logic a node runs.
 */
public final class CoordinatorCandidacy {

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorCandidacy.class);

  private final NodeContext node;
  private final Outbox outbox;
  private final Scheduler scheduler;
  private final Clock clock;
  private final AtomicInteger leading = new AtomicInteger();
  private final CoordinatorGauges gauges;
  /** Writes the metastore refused because this node had lost the leadership it wrote under. */
  private final Counter notLeaderWrites;
  private MetaStore.Leadership leadership;
  private MetaStore.Watch leaderWatch;
  private Coordinator coordinator;
  private Scheduler.Cancellable ticking;
  private boolean stopped;
  /**
   * False once the node stood down: it never campaigns or leads again. Shared with whoever stands the node down, which
   * may be another thread: a campaign retry or a won election already queued on this context sees it at once.
   */
  private final AtomicBoolean candidate;

  /**
   * @param outbox where the coordinator's messages go
   * @param scheduler the context everything here runs on, and the coordinator's timers
   * @param clock the wall clock the timestamp oracle follows
   * @param candidate true while the node may lead; see {@link #standDown}
   */
  public CoordinatorCandidacy(NodeContext node, Outbox outbox, Scheduler scheduler, Clock clock, AtomicBoolean candidate) {
    this.candidate = candidate;
    this.node = node;
    this.outbox = outbox;
    this.scheduler = scheduler;
    this.clock = clock;
    Meters.gauge(node.metrics(), "feedline.coordinator.leading", "1 on the node whose coordinator leads, else 0 (the sum over nodes must be 1)",
        leading, AtomicInteger::get);
    gauges = new CoordinatorGauges(node.metrics());
    notLeaderWrites = Counter.builder("feedline.coordinator.not.leader.writes")
        .description("Coordinator writes the metastore refused because their leadership had ended (the node then steps down)")
        .register(node.metrics());
  }

  /** The running coordinator, when this node leads. */
  public Optional<Coordinator> coordinator() {
    return Optional.ofNullable(coordinator);
  }

  /** Campaigns (again) unless the node stood down or stopped; a failed campaign is retried after a resend interval. */
  public void campaign() {
    if (!candidate.get() || stopped) {
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
      scheduler.schedule(0, () -> {
        if (leadership == won) {
          stepDown("a metastore write was refused: this node no longer leads");
        }
      });
    });
    TimestampOracle.start(fenced, node.keys().tsoWindow(), clock, TimestampOracle.DEFAULT_WINDOW)
        .compose(tso -> {
          if (leadership != won) {
            return Future.succeededFuture();
          }
          Coordinator c = new Coordinator(node.nodeId(), version, new ChangefeedStore(fenced, node.keys()), tso::next,
              out -> out.sendWith(outbox), scheduler, CoordinatorSettings.from(node.config()), node.metrics());
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

  /** A node joined or left: the coordinator of this term, if this node leads, is told. */
  public void onMembership(ClusterMembership.Change change) {
    if (coordinator == null) {
      return;
    }
    if (change.joined()) {
      coordinator.onNodeJoined(change.node());
    } else {
      coordinator.onNodeLeft(change.node());
    }
  }

  /** Hands a coordinator message to this term's coordinator; false when this node does not lead (a message for an earlier one). */
  public boolean handle(Inbound message) {
    if (coordinator == null) {
      return false;
    }
    coordinator.onInbound(message);
    return true;
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
    gauges.clear();
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
   * Takes this node out of the election for good: ends a leadership held now and withdraws a campaign waiting in the
   * queue. The caller has cleared {@code candidate} already (from any thread); this does the rest, on this context.
   */
  public Future<Void> standDown(String reason) {
    candidate.set(false);
    LOG.info("event=coordinator_candidacy_withdrawn node={} reason=\"{}\"", node.nodeId(), reason);
    return endTerm()
        .compose(x -> node.store().election().withdraw(node.keys().coordinatorElection(), node.session().lease()))
        .onFailure(err -> LOG.warn("event=candidacy_withdraw_failed node={} error=\"{}\"", node.nodeId(), err.toString()));
  }

  /** The node stops: the term ends (resigning, so another node takes over at once) and nothing campaigns again. */
  public Future<Void> stop() {
    stopped = true;
    return endTerm();
  }
}
