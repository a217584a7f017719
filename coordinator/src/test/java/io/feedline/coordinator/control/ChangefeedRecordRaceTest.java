package io.feedline.coordinator.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.coordinator.changefeed.ChangefeedRecord;
import io.feedline.proto.ChangefeedInfo;
import io.feedline.proto.ChangefeedStatus;
import org.junit.jupiter.api.Test;

/** A checkpoint write that completes after an epoch bump must not put the old epoch back in memory. */
class ChangefeedRecordRaceTest {

  private static ChangefeedRecord record(long epoch, long infoRevision, long checkpoint, long statusRevision) {
    return new ChangefeedRecord(ChangefeedInfo.newBuilder().setId("cf1").setEpoch(epoch).build(), infoRevision,
        ChangefeedStatus.newBuilder().setCheckpointTs(checkpoint).build(), statusRevision);
  }

  @Test
  void aCheckpointWrittenOverAnOlderInfoKeepsTheBumpedEpoch() {
    Changefeed cf = new Changefeed(record(5, 10, 100, 11));
    ChangefeedRecord readBeforeBump = cf.record;
    cf.record = record(6, 12, 100, 11); // the bump landed while the checkpoint write was in flight
    cf.apply(new ChangefeedRecord(readBeforeBump.info(), readBeforeBump.infoRevision(),
        ChangefeedStatus.newBuilder().setCheckpointTs(200).build(), 13));

    assertThat(cf.epoch()).isEqualTo(6);
    assertThat(cf.record.infoRevision()).isEqualTo(12);
    assertThat(cf.record.status().getCheckpointTs()).isEqualTo(200);
    assertThat(cf.record.statusRevision()).isEqualTo(13);
  }

  @Test
  void aCheckpointWrittenOverTheCurrentInfoIsTakenAsWritten() {
    Changefeed cf = new Changefeed(record(5, 10, 100, 11));
    ChangefeedRecord written = record(5, 10, 200, 13);
    cf.apply(written);
    assertThat(cf.record).isEqualTo(written);
  }

  @Test
  void anAnswerReadBeforeANewerWriteChangesNothing() {
    Changefeed cf = new Changefeed(record(6, 12, 200, 13));
    ChangefeedRecord current = cf.record;
    cf.apply(record(5, 10, 100, 11)); // a refresh issued before the bump and the checkpoint write, answered after them
    assertThat(cf.record).isEqualTo(current);
    cf.apply(record(6, 12, 300, 14)); // then only the status is newer
    assertThat(cf.record).isEqualTo(record(6, 12, 300, 14));
  }
}
