package io.feedline.maintainer.scheduler;

import io.feedline.common.id.DispatcherKey;
import io.feedline.common.id.NodeId;
import io.feedline.maintainer.operator.AddSpan;
import io.feedline.maintainer.operator.SpanOperatorController;
import io.feedline.maintainer.span.SpanController;
import io.feedline.maintainer.span.SpanReplication;
import io.feedline.proto.OperatorType;
import io.feedline.proto.TableSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Supplier;

/**
 * Places absent spans: each on the schedulable node with the fewest spans, at most {@code batchSize}
 * operators in flight at once so a changefeed of a million spans is created in waves the dispatcher
 * side can absorb. The creates of one round leave as one batched request per node.
 */
public final class BasicSpanScheduler {

  /** Operators in flight at most, unless the changefeed configures otherwise. */
  public static final int DEFAULT_BATCH_SIZE = 10_000;

  private final int batchSize;

  public BasicSpanScheduler(int batchSize) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batch size must be positive: " + batchSize);
    }
    this.batchSize = batchSize;
  }

  /** Starts add operators for absent spans on {@code nodes}. Returns how many it started. */
  public int schedule(SpanController spans, SpanOperatorController operators, List<NodeId> nodes, Supplier<DispatcherKey> ids) {
    int room = batchSize - operators.size();
    if (room <= 0 || nodes.isEmpty() || spans.absent().isEmpty()) {
      return 0;
    }
    record Load(NodeId node, int spans) {}
    PriorityQueue<Load> least = new PriorityQueue<>(Comparator.comparingInt(Load::spans).thenComparing(Load::node));
    nodes.forEach(n -> least.add(new Load(n, spans.loadOf(n))));
    List<TableSpan> picked = new ArrayList<>(Math.min(room, spans.absent().size()));
    for (TableSpan s : spans.absent()) {
      if (picked.size() == room) {
        break;
      }
      if (!operators.has(s)) {
        picked.add(s);
      }
    }
    for (TableSpan s : picked) {
      Load target = least.poll();
      SpanReplication r = spans.get(s);
      operators.add(new AddSpan(s, r.schemaId(), target.node(), ids.get(), r.checkpointTs(), OperatorType.OPERATOR_TYPE_ADD));
      least.add(new Load(target.node(), target.spans() + 1));
    }
    return picked.size();
  }
}
