package io.feedline.common.fence;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.common.testing.TestSeeds;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One row per rule of DESIGN §3: the fence before, the message, the admission and the fence after. */
class FenceTest {

  private static final NodeId N1 = NodeId.of("n1");
  private static final NodeId N2 = NodeId.of("n2");
  private static final NodeId N3 = NodeId.of("n3");

  private static Fence owned(NodeId owner, long epoch) {
    return new Fence(owner, epoch, epoch == 0, false, 0);
  }

  private static Fence compat(NodeId owner) {
    return new Fence(owner, 0, true, false, 0);
  }

  private static Fence closedAt(long epoch) {
    return new Fence(null, epoch, false, true, epoch);
  }

  enum Kind {
    BOOTSTRAP,
    CONTROL,
    CLOSE
  }

  private static Arguments row(String rule, Fence before, Kind kind, NodeId from, long epoch, Admission expected, Fence after) {
    return Arguments.of(rule, before, kind, from, epoch, expected, after);
  }

  static Stream<Arguments> rules() {
    long high = Long.MIN_VALUE; // 2^63 as an unsigned epoch
    return Stream.of(
        // bootstrap
        row("first bootstrap takes ownership", Fence.INITIAL, Kind.BOOTSTRAP, N1, 5, Admission.TAKEOVER, owned(N1, 5)),
        row("higher epoch from another node takes over", owned(N1, 5), Kind.BOOTSTRAP, N2, 6, Admission.TAKEOVER, owned(N2, 6)),
        row("higher epoch from the same node takes over", owned(N1, 5), Kind.BOOTSTRAP, N1, 9, Admission.TAKEOVER, owned(N1, 9)),
        row("same epoch from the owner is a re-bootstrap", owned(N1, 5), Kind.BOOTSTRAP, N1, 5, Admission.ACCEPT, owned(N1, 5)),
        row("same epoch from another node is rejected", owned(N1, 5), Kind.BOOTSTRAP, N2, 5, Admission.WRONG_OWNER, owned(N1, 5)),
        row("lower epoch is stale", owned(N1, 5), Kind.BOOTSTRAP, N1, 4, Admission.STALE_EPOCH, owned(N1, 5)),
        row("epochs compare unsigned: 5 is below 2^63", owned(N1, high), Kind.BOOTSTRAP, N2, 5, Admission.STALE_EPOCH, owned(N1, high)),
        row("epochs compare unsigned: 2^64-1 is above 2^63", owned(N1, high), Kind.BOOTSTRAP, N2, Epochs.MAX, Admission.TAKEOVER, owned(N2, Epochs.MAX)),
        row("epoch 0 on a fresh fence starts compat mode", Fence.INITIAL, Kind.BOOTSTRAP, N1, 0, Admission.TAKEOVER, compat(N1)),
        row("epoch 0 from the compat owner", compat(N1), Kind.BOOTSTRAP, N1, 0, Admission.ACCEPT, compat(N1)),
        row("epoch 0 from another node than the compat owner", compat(N1), Kind.BOOTSTRAP, N2, 0, Admission.WRONG_OWNER, compat(N1)),
        row("a non-zero epoch ends compat mode", compat(N1), Kind.BOOTSTRAP, N2, 3, Admission.TAKEOVER, owned(N2, 3)),
        row("epoch 0 after a non-zero epoch was seen", owned(N1, 5), Kind.BOOTSTRAP, N1, 0, Admission.COMPAT_ENDED, owned(N1, 5)),
        row("tombstone blocks a bootstrap at the closing epoch", closedAt(7), Kind.BOOTSTRAP, N1, 7, Admission.CLOSED, closedAt(7)),
        row("tombstone blocks a bootstrap below the closing epoch", closedAt(7), Kind.BOOTSTRAP, N1, 6, Admission.CLOSED, closedAt(7)),
        row("tombstone blocks a compat bootstrap", closedAt(7), Kind.BOOTSTRAP, N1, 0, Admission.CLOSED, closedAt(7)),
        row("a newer epoch passes the tombstone", closedAt(7), Kind.BOOTSTRAP, N2, 8, Admission.TAKEOVER, new Fence(N2, 8, false, true, 7)),
        // schedule / merge / post-bootstrap / heartbeat-response
        row("control from the owner at its epoch", owned(N1, 5), Kind.CONTROL, N1, 5, Admission.ACCEPT, owned(N1, 5)),
        row("control from a previous epoch", owned(N2, 6), Kind.CONTROL, N1, 5, Admission.STALE_EPOCH, owned(N2, 6)),
        row("control at the epoch from another node", owned(N1, 5), Kind.CONTROL, N2, 5, Admission.WRONG_OWNER, owned(N1, 5)),
        row("control from a newer epoch needs a bootstrap first", owned(N1, 5), Kind.CONTROL, N2, 6, Admission.NOT_BOOTSTRAPPED, owned(N1, 5)),
        row("control before any bootstrap", Fence.INITIAL, Kind.CONTROL, N1, 5, Admission.NOT_BOOTSTRAPPED, Fence.INITIAL),
        row("control after close", closedAt(5), Kind.CONTROL, N1, 5, Admission.CLOSED, closedAt(5)),
        row("compat control from the compat owner", compat(N1), Kind.CONTROL, N1, 0, Admission.ACCEPT, compat(N1)),
        row("compat control from another node", compat(N1), Kind.CONTROL, N2, 0, Admission.WRONG_OWNER, compat(N1)),
        row("compat control after compat ended", owned(N1, 5), Kind.CONTROL, N1, 0, Admission.COMPAT_ENDED, owned(N1, 5)),
        // close
        row("close from the owner leaves a tombstone", owned(N1, 5), Kind.CLOSE, N1, 5, Admission.ACCEPT, closedAt(5)),
        row("close from a newer epoch on another node", owned(N1, 5), Kind.CLOSE, N2, 6, Admission.TAKEOVER, closedAt(6)),
        row("close from a stale epoch keeps the newer owner", owned(N2, 6), Kind.CLOSE, N1, 5, Admission.STALE_EPOCH, owned(N2, 6)),
        row("close at the epoch from another node", owned(N1, 5), Kind.CLOSE, N2, 5, Admission.WRONG_OWNER, owned(N1, 5)),
        row("a repeated close is idempotent", closedAt(5), Kind.CLOSE, N1, 5, Admission.ACCEPT, closedAt(5)),
        row("a close older than the tombstone is stale", closedAt(5), Kind.CLOSE, N1, 4, Admission.STALE_EPOCH, closedAt(5)),
        row("a newer close raises the tombstone", closedAt(5), Kind.CLOSE, N3, 6, Admission.TAKEOVER, closedAt(6)),
        row("a remove-only maintainer closes a never-bootstrapped changefeed", Fence.INITIAL, Kind.CLOSE, N3, 7, Admission.TAKEOVER, closedAt(7)),
        row("compat close from the compat owner", compat(N1), Kind.CLOSE, N1, 0, Admission.ACCEPT, new Fence(null, 0, true, true, 0)),
        row("compat close after compat ended", owned(N1, 5), Kind.CLOSE, N1, 0, Admission.COMPAT_ENDED, owned(N1, 5)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void rule(String rule, Fence before, Kind kind, NodeId from, long epoch, Admission expected, Fence after) {
    Fence.Decision d = switch (kind) {
      case BOOTSTRAP -> before.admitBootstrap(from, epoch);
      case CONTROL -> before.admitControl(from, epoch);
      case CLOSE -> before.admitClose(from, epoch);
    };
    assertThat(d.admission()).as(rule).isEqualTo(expected);
    assertThat(d.next()).as(rule).isEqualTo(after);
    assertThat(d.accepted()).isEqualTo(expected.accepted());
  }

  @Test
  void repliesCountOnlyForTheOwnEpoch() {
    Fence self = Fence.ownedBy(N1, 5);
    assertThat(self.admitReply(5).admission()).isEqualTo(Admission.ACCEPT);
    assertThat(self.admitReply(4).admission()).isEqualTo(Admission.STALE_EPOCH);
    assertThat(self.admitReply(6).admission()).isEqualTo(Admission.WRONG_OWNER);
    assertThat(Fence.ownedBy(N1, 0).admitReply(0).admission()).isEqualTo(Admission.ACCEPT);
  }

  @Test
  void compatCloseThenCompatBootstrapDoesNotResurrect() {
    Fence closed = compat(N1).admitClose(N1, 0).next();
    assertThat(closed.admitBootstrap(N1, 0).admission()).isEqualTo(Admission.CLOSED);
    assertThat(closed.admitBootstrap(N2, 1).admission()).isEqualTo(Admission.TAKEOVER);
  }

  /** TiCDC #5083 at the fence: the old maintainer's delayed create arrives after the new one bootstrapped. */
  @Test
  void delayedScheduleFromPreviousOwnerIsStale() {
    Fence f = Fence.INITIAL.admitBootstrap(N1, 5).next();
    f = f.admitBootstrap(N2, 6).next();
    assertThat(f.admitControl(N1, 5).admission()).isEqualTo(Admission.STALE_EPOCH);
    assertThat(f.admitControl(N2, 6).admission()).isEqualTo(Admission.ACCEPT);
  }

  /**
   * Randomized: whatever order bootstraps, controls and closes arrive in, a receiver that keeps only
   * accepted fences never acts on an epoch below the highest it has acted on, and never resurrects a
   * closed ownership.
   */
  @Test
  void acceptedEpochsNeverGoBackwards() {
    long seed = TestSeeds.seed(20261124L);
    Random random = new Random(seed);
    NodeId[] nodes = {N1, N2, N3};
    for (int run = 0; run < 500; run++) {
      Fence fence = Fence.INITIAL;
      long highestActed = 0;
      long highestClosed = -1;
      for (int step = 0; step < 60; step++) {
        NodeId from = nodes[random.nextInt(nodes.length)];
        long epoch = random.nextInt(6); // includes 0 = compat
        Kind kind = Kind.values()[random.nextInt(3)];
        Fence.Decision d = switch (kind) {
          case BOOTSTRAP -> fence.admitBootstrap(from, epoch);
          case CONTROL -> fence.admitControl(from, epoch);
          case CLOSE -> fence.admitClose(from, epoch);
        };
        String where = TestSeeds.replay(seed, FenceTest.class) + " run=" + run + " step=" + step + " " + kind + " from " + from + "@" + epoch + " on " + fence;
        if (d.accepted()) {
          assertThat(Epochs.compare(epoch, highestActed)).as(where).isGreaterThanOrEqualTo(0);
          if (kind == Kind.BOOTSTRAP) {
            assertThat(epoch).as(where + ": bootstrap resurrected a closed epoch").isGreaterThan(highestClosed);
          }
          if (kind == Kind.CLOSE) {
            highestClosed = Math.max(highestClosed, epoch);
          }
          highestActed = epoch;
          fence = d.next();
        } else {
          assertThat(d.next()).as(where).isSameAs(fence);
        }
      }
    }
  }
}
