package io.feedline.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.proto.ScheduleDispatcherRequest;
import io.feedline.proto.TableSpan;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

class ReceivedMessagesTest {

  private final ReceivedMessages received = new ReceivedMessages();

  private static ScheduleDispatcherRequest schedule(long epoch) {
    return ScheduleDispatcherRequest.newBuilder().setChangefeedId("cf1").setEpoch(epoch).build();
  }

  @Test
  void nextFindsAMatchAlreadyReceivedAndPassesOverWhatCameBefore() {
    received.add(TableSpan.getDefaultInstance());
    received.add(schedule(1));
    received.add(schedule(2));

    assertThat(received.next(ScheduleDispatcherRequest.class, s -> s.getEpoch() == 2).result().getEpoch()).isEqualTo(2);
    Future<ScheduleDispatcherRequest> next = received.next(ScheduleDispatcherRequest.class);
    assertThat(next.isComplete()).as("epoch 1 was passed over").isFalse();
    assertThat(received.all()).hasSize(3);
  }

  @Test
  void nextCompletesWhenTheMatchArrives() {
    Future<ScheduleDispatcherRequest> next = received.next(ScheduleDispatcherRequest.class, s -> s.getEpoch() == 5);
    received.add(schedule(4));
    assertThat(next.isComplete()).isFalse();
    received.add(schedule(5));
    assertThat(next.result().getEpoch()).isEqualTo(5);
  }

  @Test
  void skipReceivedMakesTheNextStepWaitForANewMessage() {
    received.add(schedule(1));
    received.skipReceived();
    Future<ScheduleDispatcherRequest> next = received.next(ScheduleDispatcherRequest.class);
    assertThat(next.isComplete()).isFalse();
    received.add(schedule(2));
    assertThat(next.result().getEpoch()).isEqualTo(2);
  }

  @Test
  void aMatchThatThrowsFailsTheWaitingStepInsteadOfTheBusHandler() {
    Future<ScheduleDispatcherRequest> next = received.next(ScheduleDispatcherRequest.class, s -> {
      throw new IllegalStateException("broken match");
    });
    received.add(schedule(1)); // does not throw: it runs on the bus's thread
    assertThat(next.failed()).isTrue();
    assertThat(next.cause()).hasMessage("broken match");
  }
}
