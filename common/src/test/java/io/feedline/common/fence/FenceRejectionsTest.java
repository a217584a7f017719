package io.feedline.common.fence;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class FenceRejectionsTest {

  @Test
  void everyRejectionIsCountedByTypeAndReasonAndAcceptsPassThrough() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    FenceRejections rejections = new FenceRejections("dispatcher", metrics);
    NodeId n1 = NodeId.of("n1");
    NodeId n2 = NodeId.of("n2");
    Fence fence = Fence.INITIAL.admitBootstrap(n2, 6).next();

    for (int i = 0; i < 3; i++) {
      assertThat(rejections.check(fence.admitControl(n1, 5), "cf1", "ScheduleDispatcherRequest", n1, 5, fence)).isFalse();
    }
    assertThat(rejections.check(fence.admitControl(n2, 6), "cf1", "ScheduleDispatcherRequest", n2, 6, fence)).isTrue();

    assertThat(metrics.get("feedline.fence.rejections")
        .tags("role", "dispatcher", "type", "ScheduleDispatcherRequest", "reason", "stale_epoch").counter().count())
        .isEqualTo(3);
    assertThat(metrics.find("feedline.fence.rejections").counters()).hasSize(1);
  }
}
