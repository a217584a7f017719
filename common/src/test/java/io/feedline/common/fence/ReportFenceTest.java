package io.feedline.common.fence;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReportFenceTest {

  @Test
  void theFirstReportOfAnIncarnationTakesOverAndOnlyAHigherSequenceIsNewer() {
    ReportFence.Decision first = ReportFence.INITIAL.admit(100, 1);
    assertThat(first.admission()).isEqualTo(Admission.TAKEOVER);
    ReportFence at1 = first.next();
    assertThat(at1).isEqualTo(new ReportFence(100, 1));

    ReportFence.Decision next = at1.admit(100, 3);
    assertThat(next.admission()).isEqualTo(Admission.ACCEPT);
    assertThat(next.next()).isEqualTo(new ReportFence(100, 3));

    assertThat(next.next().admit(100, 2).admission()).as("reordered: older than one applied").isEqualTo(Admission.STALE_SEQUENCE);
    assertThat(next.next().admit(100, 3).admission()).as("a duplicate").isEqualTo(Admission.STALE_SEQUENCE);
    assertThat(next.next().admit(100, 2).next()).as("a rejection keeps the fence").isEqualTo(next.next());
  }

  @Test
  void aNewIncarnationTakesOverWhateverItsSequenceAndAnOlderOneIsStale() {
    ReportFence at = new ReportFence(100, 50);
    ReportFence.Decision restarted = at.admit(200, 1);
    assertThat(restarted.admission()).isEqualTo(Admission.TAKEOVER);
    assertThat(restarted.next()).isEqualTo(new ReportFence(200, 1));
    assertThat(restarted.next().admit(100, 51).admission()).isEqualTo(Admission.STALE_EPOCH);
  }

  @Test
  void sequenceZeroIsASenderThatPredatesSequencesTakenOnlyUntilANumberedReportCame() {
    ReportFence compat = ReportFence.INITIAL.admit(100, 0).next();
    assertThat(compat.admit(100, 0).admission()).isEqualTo(Admission.ACCEPT);
    ReportFence numbered = compat.admit(100, 1).next();
    assertThat(numbered.admit(100, 0).admission()).isEqualTo(Admission.COMPAT_ENDED);
  }
}
