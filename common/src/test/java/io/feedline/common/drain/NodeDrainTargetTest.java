package io.feedline.common.drain;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.drain.NodeDrainTarget.Outcome;
import io.feedline.common.id.NodeId;
import io.feedline.proto.DrainTarget;
import org.junit.jupiter.api.Test;

/** Every monotonic rule of the drain target, each with the target kept afterwards. */
class NodeDrainTargetTest {

  private static final NodeId A = NodeId.of("a");
  private static final NodeId B = NodeId.of("b");

  private static void assertOffer(NodeDrainTarget current, NodeDrainTarget incoming, Outcome outcome, NodeDrainTarget kept) {
    NodeDrainTarget.Update u = current.offer(incoming);
    assertThat(u.outcome()).as("%s offered %s", current, incoming).isEqualTo(outcome);
    assertThat(u.next()).isEqualTo(kept);
  }

  @Test
  void aHigherEpochWinsWhetherItSetsOrClears() {
    assertOffer(NodeDrainTarget.NONE, NodeDrainTarget.set(A, 5), Outcome.APPLIED, NodeDrainTarget.set(A, 5));
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.set(B, 6), Outcome.APPLIED, NodeDrainTarget.set(B, 6));
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.cleared(6), Outcome.APPLIED, NodeDrainTarget.cleared(6));
    assertOffer(NodeDrainTarget.cleared(5), NodeDrainTarget.set(A, 6), Outcome.APPLIED, NodeDrainTarget.set(A, 6));
  }

  @Test
  void aLowerEpochIsStaleWhateverItSays() {
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.set(B, 4), Outcome.STALE, NodeDrainTarget.set(A, 5));
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.cleared(4), Outcome.STALE, NodeDrainTarget.set(A, 5));
    assertOffer(NodeDrainTarget.cleared(5), NodeDrainTarget.set(A, 4), Outcome.STALE, NodeDrainTarget.cleared(5));
  }

  @Test
  void atTheSameEpochOnlySetToClearMovesForward() {
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.cleared(5), Outcome.APPLIED, NodeDrainTarget.cleared(5));
    // A delayed set must not resurrect the target that was cleared at its epoch.
    assertOffer(NodeDrainTarget.cleared(5), NodeDrainTarget.set(A, 5), Outcome.STALE, NodeDrainTarget.cleared(5));
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.set(B, 5), Outcome.STALE, NodeDrainTarget.set(A, 5));
  }

  @Test
  void theSameTargetAgainIsADuplicate() {
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.set(A, 5), Outcome.DUPLICATE, NodeDrainTarget.set(A, 5));
    assertOffer(NodeDrainTarget.cleared(5), NodeDrainTarget.cleared(5), Outcome.DUPLICATE, NodeDrainTarget.cleared(5));
    assertOffer(NodeDrainTarget.NONE, NodeDrainTarget.NONE, Outcome.DUPLICATE, NodeDrainTarget.NONE);
  }

  @Test
  void aTargetAtEpochZeroIsNeverApplied() {
    // Epoch 0 is "no drain yet": a set at 0 is below any real drain and cannot replace "none".
    assertOffer(NodeDrainTarget.NONE, NodeDrainTarget.set(A, 0), Outcome.STALE, NodeDrainTarget.NONE);
  }

  @Test
  void epochsCompareUnsigned() {
    long huge = -2L; // 2^64-2
    assertOffer(NodeDrainTarget.set(A, 5), NodeDrainTarget.set(B, huge), Outcome.APPLIED, NodeDrainTarget.set(B, huge));
    assertOffer(NodeDrainTarget.set(B, huge), NodeDrainTarget.set(A, 5), Outcome.STALE, NodeDrainTarget.set(B, huge));
  }

  @Test
  void wireFormRoundTripsAndABlankNodeMeansNone() {
    assertThat(NodeDrainTarget.of(NodeDrainTarget.set(A, 7).toProto())).isEqualTo(NodeDrainTarget.set(A, 7));
    assertThat(NodeDrainTarget.of(DrainTarget.newBuilder().setTargetNode(" ").setTargetEpoch(7).build())).isEqualTo(NodeDrainTarget.cleared(7));
    assertThat(NodeDrainTarget.cleared(7).active()).isFalse();
    assertThat(NodeDrainTarget.set(A, 7).target()).contains(A);
  }
}
