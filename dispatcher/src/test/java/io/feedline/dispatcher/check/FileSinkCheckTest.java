package io.feedline.dispatcher.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.dispatcher.source.datagen.TickTimeline;
import org.junit.jupiter.api.Test;

class FileSinkCheckTest {

  private static final String SOURCE = "datagen://?tables=3&seed=11&rate=1000";
  private static final TickTimeline TIMELINE = TickTimeline.forRate(1000);
  private static final long START = TIMELINE.commitTs(3_000);

  @Test
  void aSinkThatNeverOpenedIsEqualWhileTheCheckpointNeverMovedPastTheStart() {
    CheckReport report = FileSinkCheck.checkNeverOpened(SOURCE, START, START);
    assertThat(report.equal()).as(report.render()).isTrue();
    assertThat(report.events()).isZero();
  }

  @Test
  void aSinkThatNeverOpenedMissesEveryEventACheckpointMovedPast() {
    CheckReport report = FileSinkCheck.checkNeverOpened(SOURCE, START, TIMELINE.commitTs(4_000));
    assertThat(report.equal()).isFalse();
    assertThat(report.events()).isPositive();
    assertThat(report.tables()).isNotEmpty().allSatisfy(t -> {
      assertThat(t.missingChanges()).isNotEmpty();
      assertThat(t.extraChanges()).isEmpty();
    });
    long missing = report.tables().stream().mapToLong(t -> t.missingChanges().size()).sum() + report.missingDdls().size();
    assertThat(missing).as("every event of the window, DDLs included").isEqualTo(report.events());
  }
}
