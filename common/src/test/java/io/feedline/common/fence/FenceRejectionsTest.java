package io.feedline.common.fence;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.NodeId;
import io.feedline.proto.NodeHeartbeat;
import io.feedline.proto.ScheduleDispatcherRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class FenceRejectionsTest {

  @Test
  void everyRejectionIsCountedByTypeAndReasonAndAcceptsPassThrough() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    FenceRejections rejections = new FenceRejections("dispatcher", metrics, List.of(ScheduleDispatcherRequest.getDescriptor()));
    NodeId n1 = NodeId.of("n1");
    NodeId n2 = NodeId.of("n2");
    Fence fence = Fence.INITIAL.admitBootstrap(n2, 6).next();

    for (int i = 0; i < 3; i++) {
      assertThat(rejections.check(fence.admitControl(n1, 5), "cf1", "ScheduleDispatcherRequest", n1, 5, fence)).isFalse();
    }
    assertThat(rejections.check(fence.admitControl(n2, 6), "cf1", "ScheduleDispatcherRequest", n2, 6, fence)).isTrue();

    assertThat(countsByReason(metrics)).containsEntry("stale_epoch", 3.0).containsEntry("wrong_owner", 0.0);
  }

  @Test
  void aDeclaredTypeHasEveryRejectionReasonAtZeroBeforeTheFirstMessage() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    new FenceRejections("dispatcher", metrics, List.of(ScheduleDispatcherRequest.getDescriptor()));

    assertThat(countsByReason(metrics)).containsOnly(Map.entry("stale_epoch", 0.0), Map.entry("wrong_owner", 0.0),
        Map.entry("closed", 0.0), Map.entry("compat_ended", 0.0), Map.entry("not_bootstrapped", 0.0));
    assertThat(metrics.find("feedline.fence.rejections").counters())
        .allSatisfy(c -> assertThat(c.getId().getTag("type")).isEqualTo("ScheduleDispatcherRequest"))
        .allSatisfy(c -> assertThat(c.getId().getTag("role")).isEqualTo("dispatcher"))
        .allSatisfy(c -> assertThat(c.getId().getDescription()).isNotBlank());
  }

  @Test
  void aReportTypeHasItsOwnReasonsAtZeroAndCountsAReorderedReport() {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    FenceRejections rejections = new FenceRejections("coordinator", metrics, List.of(), List.of(NodeHeartbeat.getDescriptor()));
    assertThat(countsByReason(metrics)).containsOnly(Map.entry("stale_epoch", 0.0), Map.entry("stale_sequence", 0.0),
        Map.entry("compat_ended", 0.0));

    ReportFence fence = new ReportFence(100, 5);
    assertThat(rejections.check(fence.admit(100, 4), "NodeHeartbeat", NodeId.of("n1"), 100, 4, fence)).isFalse();
    assertThat(rejections.check(fence.admit(100, 6), "NodeHeartbeat", NodeId.of("n1"), 100, 6, fence)).isTrue();
    assertThat(countsByReason(metrics)).containsEntry("stale_sequence", 1.0);
  }

  private static Map<String, Double> countsByReason(SimpleMeterRegistry metrics) {
    return metrics.find("feedline.fence.rejections").counters().stream()
        .collect(Collectors.toMap(c -> c.getId().getTag("reason"), Counter::count));
  }
}
