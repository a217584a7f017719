package io.feedline.maintainer.span;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.common.span.TableSpans;
import io.feedline.common.testing.TestSeeds;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpanControllerCheckpointTest {

  private static final NodeId N1 = NodeId.of("n1");

  private static long bruteForceMin(SpanController spans) {
    return spans.all().stream().mapToLong(SpanReplication::checkpointTs).min().orElse(Long.MAX_VALUE);
  }

  @Test
  void theCachedMinimumIsTheLowestSpanCheckpointAfterEveryChange() {
    long seed = TestSeeds.seed(8);
    Random random = new Random(seed);
    SpanController spans = new SpanController();
    List<TableSpan> known = new ArrayList<>();
    assertThat(spans.minCheckpointTs()).isEqualTo(Long.MAX_VALUE);
    long nextTable = 1;
    for (int step = 0; step < 20_000; step++) {
      int op = known.isEmpty() ? 0 : random.nextInt(10);
      if (op == 0) {
        TableSpan span = TableSpans.wholeTable(nextTable++);
        spans.addAbsent(span, 1, 100 + random.nextInt(50));
        known.add(span);
      } else if (op == 1) {
        TableSpan span = known.remove(random.nextInt(known.size()));
        spans.delete(span);
      } else if (op == 2) {
        TableSpan span = known.get(random.nextInt(known.size()));
        spans.assign(span, new DispatcherKey(step, 1), N1, false);
        spans.working(span, spans.get(span).checkpointTs() + random.nextInt(3));
      } else if (op == 3) {
        TableSpan span = known.get(random.nextInt(known.size()));
        spans.markAbsent(span, spans.get(span).checkpointTs() - 5 + random.nextInt(10));
      } else {
        SpanReplication r = spans.get(known.get(random.nextInt(known.size())));
        spans.advance(r, r.checkpointTs() - 2 + random.nextInt(8)); // sometimes lower: ignored, never regresses
      }
      if (random.nextInt(3) == 0) { // reads between several changes too: the cache is refreshed lazily
        assertThat(spans.minCheckpointTs()).as("step %d, %s", step, TestSeeds.replay(seed, getClass())).isEqualTo(bruteForceMin(spans));
      }
    }
    assertThat(spans.minCheckpointTs()).isEqualTo(bruteForceMin(spans));
  }
}
