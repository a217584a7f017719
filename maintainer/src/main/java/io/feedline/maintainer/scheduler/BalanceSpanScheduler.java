package io.feedline.maintainer.scheduler;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.operator.MoveSpan;
import io.feedline.maintainer.operator.SpanOperatorController;
import io.feedline.maintainer.span.SpanController;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.TableSpan;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Evens out span counts across schedulable nodes by moving spans from the fullest node to the emptiest,
 * but only when the changefeed is stable (nothing absent, nothing in flight): balancing while spans are
 * still being placed or recovered would fight the basic scheduler and move spans twice.
 */
public final class BalanceSpanScheduler {

  private final int maxMovesPerRound;

  public BalanceSpanScheduler(int maxMovesPerRound) {
    this.maxMovesPerRound = maxMovesPerRound;
  }

  /** Starts move operators. Returns how many it started. */
  public int schedule(SpanController spans, SpanOperatorController operators, List<NodeId> nodes, Supplier<DispatcherKey> ids) {
    if (nodes.size() < 2 || operators.size() > 0 || !spans.absent().isEmpty()) {
      return 0;
    }
    Map<NodeId, Integer> load = new LinkedHashMap<>();
    nodes.stream().sorted().forEach(n -> load.put(n, spans.loadOf(n)));
    Map<NodeId, Iterator<TableSpan>> movable = new HashMap<>();
    int started = 0;
    while (started < maxMovesPerRound) {
      // Ties go to the lowest node id both ways, so rounds are deterministic.
      NodeId fullest = null;
      NodeId emptiest = null;
      for (Map.Entry<NodeId, Integer> e : load.entrySet()) {
        if (fullest == null || e.getValue() > load.get(fullest)) {
          fullest = e.getKey();
        }
        if (emptiest == null || e.getValue() < load.get(emptiest)) {
          emptiest = e.getKey();
        }
      }
      if (load.get(fullest) - load.get(emptiest) <= 1) {
        break;
      }
      Iterator<TableSpan> from = movable.computeIfAbsent(fullest, n -> spans.on(n).iterator());
      SpanReplication candidate = null;
      while (candidate == null && from.hasNext()) {
        SpanReplication r = spans.get(from.next());
        if (r.working() && !operators.has(r.span())) {
          candidate = r;
        }
      }
      if (candidate == null) {
        break;
      }
      operators.add(new MoveSpan(candidate.span(), candidate.schemaId(), fullest, candidate.dispatcher(), emptiest, ids.get()));
      load.merge(fullest, -1, Integer::sum);
      load.merge(emptiest, 1, Integer::sum);
      started++;
    }
    return started;
  }
}
